{{/*
Who may open connections to one component's pods. The API takes traffic from the
ingress controller (which only routes the public prefixes, never /internal/v1), from
the sibling services in `networkPolicy.internalCallers` (the /internal/v1 callers),
and metrics scrapes; a worker takes only metrics scrapes. Everything else is denied.
*/}}
{{- define "common.networkpolicy" -}}
{{- $root := .root -}}
{{- $np := $root.Values.networkPolicy -}}
{{- if $np.enabled -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "common.componentName" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "common.selectorLabels" . | nindent 6 }}
  policyTypes: ["Ingress"]
  ingress:
    {{- if and (eq .component "api") $root.Values.ingress.enabled }}
    # Public routes through the ingress controller.
    - from:
        - namespaceSelector:
            {{- toYaml $np.ingressController.namespaceSelector | nindent 12 }}
          podSelector:
            {{- toYaml $np.ingressController.podSelector | nindent 12 }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if and (eq .component "api") $np.internalCallers }}
    # /internal/v1 callers: only the sibling services of this release's namespace.
    - from:
        - podSelector:
            matchExpressions:
              - key: app.kubernetes.io/name
                operator: In
                values:
                  {{- toYaml $np.internalCallers | nindent 18 }}
              - key: app.kubernetes.io/part-of
                operator: In
                values: [{{ $root.Values.partOf | default "commerce" | quote }}]
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- if $np.metrics.enabled }}
    # Prometheus scrapes /metrics.
    - from:
        - namespaceSelector:
            {{- toYaml $np.metrics.namespaceSelector | nindent 12 }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
{{- end -}}
{{- end -}}
