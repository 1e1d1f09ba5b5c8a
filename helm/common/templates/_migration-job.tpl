{{/*
`<service> migrate` as a pre-install,pre-upgrade hook: the schema is migrated before any
new pod starts; a failed migration fails the release and leaves the old pods serving.
Hooks run before the release's ordinary objects exist, so the Job takes its config
inline (the same values as the ConfigMap), its secrets from the pre-existing Secret,
and the namespace's default ServiceAccount (without a token).
*/}}
{{- define "common.migrationJob" -}}
{{- $m := .Values.migrations -}}
{{- if $m.enabled -}}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ include "common.fullname" . }}-migrate
  labels:
    {{- include "common.labels" (dict "root" . "component" "migrate") | nindent 4 }}
  annotations:
    helm.sh/hook: pre-install,pre-upgrade
    helm.sh/hook-weight: "-5"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $m.backoffLimit }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds }}
  ttlSecondsAfterFinished: {{ $m.ttlSecondsAfterFinished }}
  template:
    metadata:
      labels:
        {{- include "common.labels" (dict "root" . "component" "migrate") | nindent 8 }}
    spec:
      restartPolicy: Never
      serviceAccountName: {{ $m.serviceAccountName | default "default" }}
      automountServiceAccountToken: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "common.podSecurityContext" . | nindent 8 }}
      containers:
        - name: migrate
          image: {{ include "common.image" . }}
          imagePullPolicy: {{ .Values.image.pullPolicy }}
          args:
            {{- toYaml $m.args | nindent 12 }}
          env:
            {{- range $k, $v := .Values.config }}
            - name: {{ $k }}
              value: {{ $v | toString | quote }}
            {{- end }}
          envFrom:
            - secretRef:
                name: {{ include "common.secretName" . }}
          resources:
            {{- toYaml $m.resources | nindent 12 }}
          securityContext:
            {{- include "common.containerSecurityContext" . | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
{{- end -}}
{{- end -}}
