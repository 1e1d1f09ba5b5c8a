{{/*
One Deployment per component. Call with (dict "root" . "component" "api"|"worker");
the component's settings are `.Values.<component>`.
*/}}
{{- define "common.deployment" -}}
{{- $root := .root -}}
{{- $c := index $root.Values .component -}}
{{- $name := include "common.componentName" . -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $name }}
  labels:
    {{- include "common.labels" . | nindent 4 }}
spec:
  {{- if not $c.autoscaling.enabled }}
  replicas: {{ $c.replicas }}
  {{- end }}
  revisionHistoryLimit: {{ $root.Values.revisionHistoryLimit | default 5 }}
  selector:
    matchLabels:
      {{- include "common.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      # Never below the wanted count during a rollout: new pods must be ready first.
      maxUnavailable: 0
      maxSurge: {{ $c.maxSurge | default "25%" }}
  template:
    metadata:
      labels:
        {{- include "common.labels" . | nindent 8 }}
      annotations:
        # A config change rolls the pods (envFrom is read only at start).
        checksum/config: {{ include "common.configmap" $root | sha256sum }}
        {{- with $c.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "common.serviceAccountName" $root }}
      # The services never call the Kubernetes API.
      automountServiceAccountToken: false
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        {{- include "common.podSecurityContext" $root | nindent 8 }}
      # preStop pause + the service's own drain (in-flight requests, consumers) + margin.
      terminationGracePeriodSeconds: {{ $c.drain.terminationGracePeriodSeconds }}
      containers:
        - name: {{ $root.Chart.Name }}
          image: {{ include "common.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args:
            {{- toYaml $c.args | nindent 12 }}
          ports:
            - name: http
              containerPort: {{ $root.Values.port }}
              protocol: TCP
          envFrom:
            {{- include "common.envFrom" $root | nindent 12 }}
          {{- with $c.env }}
          env:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- if $c.probes.enabled }}
          startupProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: {{ $c.probes.startup.periodSeconds }}
            failureThreshold: {{ $c.probes.startup.failureThreshold }}
          livenessProbe:
            httpGet:
              path: /health
              port: http
            periodSeconds: {{ $c.probes.liveness.periodSeconds }}
            timeoutSeconds: {{ $c.probes.liveness.timeoutSeconds }}
            failureThreshold: {{ $c.probes.liveness.failureThreshold }}
          readinessProbe:
            httpGet:
              path: /ready
              port: http
            periodSeconds: {{ $c.probes.readiness.periodSeconds }}
            timeoutSeconds: {{ $c.probes.readiness.timeoutSeconds }}
            failureThreshold: {{ $c.probes.readiness.failureThreshold }}
          {{- end }}
          {{- if gt (int $c.drain.preStopSleepSeconds) 0 }}
          lifecycle:
            # The image has no shell: the kubelet's own sleep action (Kubernetes 1.30+)
            # keeps the pod serving while endpoints and the ingress drop it, before SIGTERM.
            preStop:
              sleep:
                seconds: {{ $c.drain.preStopSleepSeconds }}
          {{- end }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- include "common.containerSecurityContext" $root | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
        # The root filesystem is read-only; /tmp is the one writable place.
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
      {{- with $root.Values.scheduling.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.scheduling.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.scheduling.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- $spread := $root.Values.scheduling.topologySpread }}
      {{- if $spread.enabled }}
      # Replicas spread over zones first, then over nodes.
      topologySpreadConstraints:
        - topologyKey: topology.kubernetes.io/zone
          maxSkew: {{ $spread.zone.maxSkew }}
          whenUnsatisfiable: {{ $spread.zone.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "common.selectorLabels" . | nindent 14 }}
          matchLabelKeys: ["pod-template-hash"]
        - topologyKey: kubernetes.io/hostname
          maxSkew: {{ $spread.node.maxSkew }}
          whenUnsatisfiable: {{ $spread.node.whenUnsatisfiable }}
          labelSelector:
            matchLabels:
              {{- include "common.selectorLabels" . | nindent 14 }}
          matchLabelKeys: ["pod-template-hash"]
      {{- end }}
{{- end -}}
