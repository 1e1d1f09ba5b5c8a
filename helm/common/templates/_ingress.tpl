{{/*
One Ingress per route group in `.Values.ingress.routes` (a map, so values files can tune
one group's annotations, e.g. rate limiting on checkout only). Each group lists the
service's own path prefixes (API.md), so each release owns its routes. /internal/v1 is
never listed: the ingress never routes it.
*/}}
{{- define "common.ingress" -}}
{{- $root := . -}}
{{- $ing := .Values.ingress -}}
{{- if $ing.enabled -}}
{{- range $key, $route := $ing.routes }}
{{- range $route.paths }}
{{- if hasPrefix "/internal" . }}
{{- fail (printf "ingress.routes.%s: %s must never be routed by the ingress" $key .) }}
{{- end }}
{{- end }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ printf "%s-%s" (include "common.fullname" $root) $key | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "common.labels" (dict "root" $root "component" "api") | nindent 4 }}
  {{- $annotations := merge (dict) ($route.annotations | default dict) ($ing.annotations | default dict) }}
  {{- with $annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  ingressClassName: {{ $ing.className }}
  {{- if $ing.tls.enabled }}
  tls:
    - hosts:
        - {{ $ing.host | quote }}
      secretName: {{ required "ingress.tls.secretName is required when ingress.tls.enabled" $ing.tls.secretName }}
  {{- end }}
  rules:
    - host: {{ $ing.host | quote }}
      http:
        paths:
          {{- range $route.paths }}
          - path: {{ . }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "common.fullname" $root }}
                port:
                  name: http
          {{- end }}
{{- end }}
{{- end -}}
{{- end -}}
