{{/* Non-secret environment for every component (and the migration Job, which renders it inline). */}}
{{- define "common.configmap" -}}
{{- $addr := .Values.config.HTTP_ADDR | default "" | toString -}}
{{- if not (hasSuffix (printf ":%v" .Values.port) $addr) -}}
{{- fail (printf "config.HTTP_ADDR (%q) must listen on port (%v): probes, the Service and the NetworkPolicy use it" $addr .Values.port) -}}
{{- end -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "common.fullname" . }}
  labels:
    {{- include "common.labels" (dict "root" . "component" "config") | nindent 4 }}
data:
  {{- range $k, $v := .Values.config }}
  {{ $k }}: {{ $v | toString | quote }}
  {{- end }}
{{- end -}}
