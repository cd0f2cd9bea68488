/* validate.c -- see validate.h. One pass over a short spec string; no
 * allocation. The 400's wording follows each service: Nova's jsonschema
 * ("Invalid input for field/attribute x. Value: v. reason"), Neutron's
 * attribute validators ("Invalid input for x. Reason: reason."), Keystone's
 * SchemaValidationError and Glance's webob 400. */
#include "validate.h"
#include "http.h"
#include "util.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool int_ok(const cJSON *v, long min) {
    long x;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        return isfinite(d) && d == floor(d) && d >= (double)min && d <= 2147483647.0;
    }
    return cJSON_IsString(v) && mc_parse_long(v->valuestring, min, 2147483647L, &x);
}

static bool bool_str_ok(const char *s) {
    static const char *const forms[] = {"true", "false", "1", "0", "yes", "no", "on", "off", "y", "n", "t", "f", NULL};
    for (int i = 0; forms[i]; i++)
        if (strcasecmp(s, forms[i]) == 0) return true;
    return false;
}

static bool strings_ok(const cJSON *v) {
    const cJSON *x;
    cJSON_ArrayForEach(x, v) if (!cJSON_IsString(x)) return false;
    return true;
}

/* Whether 'v' has type 't' (strings at most 'max' bytes, 0 = any); 'why'
 * names the type wanted. */
static bool type_ok(const cJSON *v, char t, size_t max, const char **why) {
    bool null = cJSON_IsNull(v);
    if (max > 0 && cJSON_IsString(v) && strlen(v->valuestring) > max) {
        *why = "is too long";
        return false;
    }
    if (max > 0 && t == 'm') {
        const cJSON *x;
        *why = "has a key or value that is empty or too long";
        cJSON_ArrayForEach(x, v) if (x->string[0] == '\0' || strlen(x->string) > max ||
                                     (cJSON_IsString(x) && strlen(x->valuestring) > max)) return false;
    }
    switch (t) {
    case 's': *why = "is not of type 'string'"; return cJSON_IsString(v);
    case 'S': *why = "is not of type 'string', 'null'"; return null || cJSON_IsString(v);
    case 'v': *why = "is not of type 'string', 'number', 'boolean'";
        return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v);
    case 'i': *why = "is not a non-negative integer"; return int_ok(v, 0);
    case 'I': *why = "is not a non-negative integer or null"; return null || int_ok(v, 0);
    case 'q': *why = "is not an integer >= -1"; return int_ok(v, -1);
    case 'n': *why = "is not an integer"; return int_ok(v, -2147483647L);
    case 'N': *why = "is not an integer or null"; return null || int_ok(v, -2147483647L);
    case 'k': *why = "is not of type 'string', 'integer'";
        return (cJSON_IsString(v) && v->valuestring[0] != '\0') || (cJSON_IsNumber(v) && int_ok(v, 0));
    case 'b': *why = "is not of type 'boolean'";
        return cJSON_IsBool(v) || (cJSON_IsString(v) && bool_str_ok(v->valuestring)) ||
               (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1));
    case 'B': *why = "is not of type 'boolean'"; return cJSON_IsBool(v);
    case 'o': *why = "is not of type 'object'"; return cJSON_IsObject(v);
    case 'O': *why = "is not of type 'object', 'null'"; return null || cJSON_IsObject(v);
    case 'a': *why = "is not of type 'array'"; return cJSON_IsArray(v);
    case 'A': *why = "is not of type 'array', 'null'"; return null || cJSON_IsArray(v);
    case 'r': *why = "is not an array of strings"; return cJSON_IsArray(v) && strings_ok(v);
    case 'R': *why = "is not an array of strings or null"; return null || (cJSON_IsArray(v) && strings_ok(v));
    case 'm': *why = "is not an object of strings"; return cJSON_IsObject(v) && strings_ok(v);
    case 'u': *why = "is not a valid UUID"; return cJSON_IsString(v) && mc_is_uuid(v->valuestring);
    case 'U': *why = "is not a valid UUID or null"; return null || (cJSON_IsString(v) && mc_is_uuid(v->valuestring));
    default: mc_panic("validate: unknown type '%c'", t);
    }
    return false;
}

/* Whether 'key' is named in 'spec'. */
static bool named(const char *spec, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = spec; *p;) {
        const char *eq = strchr(p, '=');
        if (eq == NULL) break;
        if ((size_t)(eq - p) == kl && strncmp(p, key, kl) == 0) return true;
        p = strchr(eq, '|');
        if (p == NULL) break;
        p++;
    }
    return false;
}

bool mc_check(const cJSON *obj, const char *spec, char *field, size_t fieldsz, char *why, size_t whysz) {
    bool strict = spec[0] == '!';
    if (strict) spec++;
    for (const char *p = spec; *p;) {
        const char *eq = strchr(p, '=');
        if (eq == NULL || eq[1] == '\0') mc_panic("validate: bad spec '%s'", spec);
        char key[64];   /* a copy, not snprintf: ~600 instructions a key, 24 keys a server create */
        size_t kl = (size_t)(eq - p) < sizeof key ? (size_t)(eq - p) : sizeof key - 1;
        memcpy(key, p, kl);
        key[kl] = '\0';
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        const char *reason = "";
        const char *end = eq + 2;   /* the length cap: digits after the type, if any */
        size_t max = 0;
        while (*end >= '0' && *end <= '9') max = max * 10 + (size_t)(*end++ - '0');
        if (v != NULL && !type_ok(v, eq[1], max, &reason)) {
            snprintf(field, fieldsz, "%s", key);
            char *text = cJSON_PrintUnformatted(v);
            snprintf(why, whysz, "%.64s %s", text ? text : "?", reason);
            cJSON_free(text);
            return false;
        }
        p = end;
        if (*p == '|') p++;
    }
    if (strict && cJSON_IsObject(obj))
        for (const cJSON *kv = obj->child; kv != NULL; kv = kv->next)
            if (!named(spec, kv->string)) {
                snprintf(field, fieldsz, "%s", kv->string);
                snprintf(why, whysz, "Additional properties are not allowed ('%.64s' was unexpected)", kv->string);
                return false;
            }
    return true;
}

int mc_check_or_reply(mc_req *r, const cJSON *obj, const char *spec) {
    char field[64], why[160];
    if (mc_check(obj, spec, field, sizeof field, why, sizeof why)) return 0;
    switch (r->svc) {
    case MC_COMPUTE:
    case MC_VOLUME:
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %s", field, why);
        break;
    case MC_NETWORK:
        mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input for %s. Reason: %s.", field, why);
        break;
    case MC_IDENTITY:
        mc_reply_error(r, 400, NULL, "Invalid input for field '%s': %s", field, why);
        break;
    default:
        mc_reply_error(r, 400, NULL, "Invalid value for '%s': %s", field, why);
        break;
    }
    return -1;
}
