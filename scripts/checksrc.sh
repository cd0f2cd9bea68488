#!/bin/sh
# checksrc.sh -- curl's banned-function idea: calls that are unsafe or that
# this project has replaced with its own funnel.
cd "$(dirname "$0")/.." || exit 1
bad=$(grep -nE '\b(atoi|atol|sprintf|strcpy|strcat|strtok|gets)\(|cJSON_GetObjectItem\(|cJSON_Parse\(|cJSON_GetErrorPtr|evhttp_send_error' mockcloud/*.c mockcloud/*.h 2>/dev/null | grep -v 'snprintf\|vsnprintf')
if [ -n "$bad" ]; then
  echo "checksrc: banned calls:"; echo "$bad"; exit 1
fi
exit 0
