{{/*
Names and labels. Every template takes the chart's root context (`.`), or a dict
with `root` (the chart context) and `component` (`api` or `worker`).
*/}}

{{/* The release's base name: the chart name unless overridden (a release per service). */}}
{{- define "common.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of one component's objects: the base name for the API, `<base>-worker` for a worker. */}}
{{- define "common.componentName" -}}
{{- $base := include "common.fullname" .root -}}
{{- if eq .component "api" -}}{{ $base }}{{- else -}}{{ printf "%s-%s" $base .component | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{/* Labels that select a component's pods. */}}
{{- define "common.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "common.labels" -}}
{{ include "common.selectorLabels" . }}
app.kubernetes.io/part-of: {{ .root.Values.partOf | default "commerce" }}
app.kubernetes.io/version: {{ .root.Values.image.tag | default .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The image reference; the tag defaults to the chart's appVersion. */}}
{{- define "common.image" -}}
{{- $img := .Values.image -}}
{{- if $img.digest -}}
{{ printf "%s@%s" $img.repository $img.digest }}
{{- else -}}
{{ printf "%s:%s" $img.repository ($img.tag | default .Chart.AppVersion) }}
{{- end -}}
{{- end -}}

{{/* The ServiceAccount the pods run as. */}}
{{- define "common.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{ .Values.serviceAccount.name | default (include "common.fullname" .) }}
{{- else -}}
{{ .Values.serviceAccount.name | default "default" }}
{{- end -}}
{{- end -}}

{{/* The existing Secret holding URLs with passwords, tokens and keys (never rendered from values). */}}
{{- define "common.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "common.fullname" .)) -}}
{{- end -}}

{{/* The container's environment: non-secret config from the ConfigMap, secrets from the existing Secret. */}}
{{- define "common.envFrom" -}}
- configMapRef:
    name: {{ include "common.fullname" . }}
- secretRef:
    name: {{ include "common.secretName" . }}
{{- end -}}

{{/* Pod and container security settings shared by every pod (distroless image, user 65532). */}}
{{- define "common.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "common.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}
