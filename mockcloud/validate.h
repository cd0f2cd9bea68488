/* validate.h -- member types of a request body, checked before a handler acts.
 *
 * A spec names the members of one JSON object and their types, in the
 * notation of tests/http/test_badinput.c: "name=s|ram=i|enabled=B". Absent
 * members are fine (required ones are the handler's business); a present one
 * of the wrong type answers 400 in the service's dialect, before anything
 * changes. Types:
 *   s string            S string or null      v string, number or boolean
 *   i integer >= 0 (a number without fraction or a string of digits, as Nova's
 *     and Neutron's converters take it)        I the same or null
 *   q quota: integer >= -1                     n integer, any sign
 *   N the same or null                         k a reference: non-empty string or integer
 *   b boolean or one of its string forms ("true", "False", "1", "off"...)
 *   B a JSON boolean only (Keystone, Glance)
 *   o object   O object or null   a array   A array or null
 *   r array of strings   R the same or null   m object of strings (metadata)
 *   u a UUID string      U the same or null
 * A number after the letter caps strings ("name=s255"; for m, keys and values).
 * A spec starting with '!' also refuses members it does not name (JSON
 * schema's additionalProperties: false). */
#ifndef MC_VALIDATE_H
#define MC_VALIDATE_H

#include "mockcloud.h"

/* 0 when 'obj' matches 'spec'; otherwise replies 400 and returns -1. */
int mc_check_or_reply(mc_req *r, const cJSON *obj, const char *spec);
/* The check alone: false and a reason in 'why' (for callers with their own reply). */
bool mc_check(const cJSON *obj, const char *spec, char *field, size_t fieldsz, char *why, size_t whysz);

#endif
