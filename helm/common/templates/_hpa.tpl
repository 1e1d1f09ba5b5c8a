{{/*
HorizontalPodAutoscaler (autoscaling/v2) for one component: CPU by default, optional
memory, optional per-pod requests-per-second (a Pods metric served by a metrics adapter
such as prometheus-adapter), and scale-up/scale-down behaviour from values.
*/}}
{{- define "common.hpa" -}}
{{- $c := index .root.Values .component -}}
{{- $a := $c.autoscaling -}}
{{- if $a.enabled -}}
{{- if not (or $a.cpu.enabled $a.memory.enabled $a.requestsPerSecond.enabled) -}}
{{- fail (printf "%s.autoscaling: enable at least one of cpu, memory, requestsPerSecond" .component) -}}
{{- end -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail (printf "%s.autoscaling: minReplicas (%v) is above maxReplicas (%v)" .component $a.minReplicas $a.maxReplicas) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "common.componentName" . }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "common.componentName" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if $a.cpu.enabled }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.cpu.averageUtilization }}
    {{- end }}
    {{- if $a.memory.enabled }}
    - type: Resource
      resource:
        name: memory
        target:
          type: Utilization
          averageUtilization: {{ $a.memory.averageUtilization }}
    {{- end }}
    {{- if $a.requestsPerSecond.enabled }}
    - type: Pods
      pods:
        metric:
          name: {{ $a.requestsPerSecond.metricName }}
        target:
          type: AverageValue
          averageValue: {{ $a.requestsPerSecond.averageValue | quote }}
    {{- end }}
  behavior:
    scaleUp:
      stabilizationWindowSeconds: {{ $a.scaleUp.stabilizationWindowSeconds }}
      selectPolicy: Max
      policies:
        - type: Percent
          value: {{ $a.scaleUp.percent }}
          periodSeconds: {{ $a.scaleUp.periodSeconds }}
        - type: Pods
          value: {{ $a.scaleUp.pods }}
          periodSeconds: {{ $a.scaleUp.periodSeconds }}
    scaleDown:
      stabilizationWindowSeconds: {{ $a.scaleDown.stabilizationWindowSeconds }}
      selectPolicy: Max
      policies:
        - type: Percent
          value: {{ $a.scaleDown.percent }}
          periodSeconds: {{ $a.scaleDown.periodSeconds }}
{{- end -}}
{{- end -}}
