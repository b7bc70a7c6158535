{{/*
Helpers. The chart keeps to helm's plain constructs (values, include, if/with/range, toYaml,
nindent, quote, default, required, not, add, int64, printf); tests/test_helm_chart.py renders it
with helm itself.
*/}}

{{- define "charla.name" -}}
{{- .Values.nameOverride | default .Chart.Name -}}
{{- end }}

{{- define "charla.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{ .Values.fullnameOverride }}
{{- else -}}
{{ .Release.Name }}-{{ include "charla.name" . }}
{{- end -}}
{{- end }}

{{- define "charla.selectorLabels" -}}
app.kubernetes.io/name: {{ include "charla.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "charla.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{ include "charla.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "charla.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "charla.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{ .Values.secrets.existingSecret }}
{{- else -}}
{{ include "charla.fullname" . }}
{{- end -}}
{{- end }}

{{- define "charla.databaseSecretName" -}}
{{- if .Values.database.existingSecret -}}
{{ .Values.database.existingSecret }}
{{- else -}}
{{ include "charla.secretName" . }}
{{- end -}}
{{- end }}

{{/*
The environment of every Charla container (hub, worker, migration job). Secrets only by
secretKeyRef: no key, token or password is ever written into a pod's spec.
*/}}
{{- define "charla.env" -}}
- name: CHARLA_HOST
  value: "0.0.0.0"
- name: CHARLA_PORT
  value: {{ .Values.hub.port | quote }}
- name: CHARLA_DATA_DIR
  value: /var/lib/charla
- name: CHARLA_METRICS_PORT
  value: {{ .Values.metrics.port | quote }}
- name: CHARLA_LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
- name: CHARLA_FANOUT
  value: redis
- name: CHARLA_TRUSTED_PROXIES
  value: {{ .Values.trustedProxies | quote }}
- name: CHARLA_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.databaseSecretName" . }}
      key: {{ .Values.database.existingSecretKey }}
- name: CHARLA_DB_PGBOUNCER
  value: {{ .Values.database.pgbouncer | quote }}
- name: CHARLA_DB_POOL_SIZE
  value: {{ .Values.database.poolSize | quote }}
- name: CHARLA_DB_POOL_TIMEOUT_S
  value: {{ .Values.database.poolTimeoutSeconds | quote }}
{{- if .Values.redis.sentinel.enabled }}
- name: CHARLA_REDIS_SENTINELS
  value: {{ .Values.redis.sentinel.hosts | required "redis.sentinel.hosts: host:port of each sentinel, comma-separated" | quote }}
- name: CHARLA_REDIS_SENTINEL_SERVICE
  value: {{ .Values.redis.sentinel.service | quote }}
- name: CHARLA_REDIS_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_REDIS_SENTINEL_PASSWORD
      optional: true
{{- else }}
- name: CHARLA_REDIS_URL
  value: {{ .Values.redis.url | required "redis.url (or redis.sentinel.enabled): Charla needs an external Redis" | quote }}
{{- end }}
- name: CHARLA_REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_REDIS_PASSWORD
      optional: true
- name: CHARLA_ADMIN_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_ADMIN_TOKEN
- name: CHARLA_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_SECRET_KEY
- name: CHARLA_DATA_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_DATA_KEY
- name: CHARLA_ATTACHMENT_MAX_BYTES
  value: {{ .Values.files.maxBytes | int64 | quote }}
{{- with .Values.files.storageUrl }}
- name: CHARLA_STORAGE_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.files.s3EndpointUrl }}
- name: CHARLA_S3_ENDPOINT_URL
  value: {{ . | quote }}
{{- end }}
{{- with .Values.files.s3Region }}
- name: CHARLA_S3_REGION
  value: {{ . | quote }}
{{- end }}
{{- if .Values.files.storageUrl }}
- name: CHARLA_S3_ACCESS_KEY_ID
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_S3_ACCESS_KEY_ID
      optional: true
- name: CHARLA_S3_SECRET_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_S3_SECRET_ACCESS_KEY
      optional: true
{{- end }}
- name: CHARLA_SMTP_HOST
  value: {{ .Values.smtp.host | quote }}
- name: CHARLA_SMTP_PORT
  value: {{ .Values.smtp.port | quote }}
- name: CHARLA_SMTP_FROM
  value: {{ .Values.smtp.from | quote }}
- name: CHARLA_SMTP_USER
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_SMTP_USER
      optional: true
- name: CHARLA_SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "charla.secretName" . }}
      key: CHARLA_SMTP_PASSWORD
      optional: true
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* the volumes every Charla container writes to (its root file system is read-only) */}}
{{- define "charla.volumeMounts" -}}
volumeMounts:
  - name: data
    mountPath: /var/lib/charla
  - name: tmp
    mountPath: /tmp
{{- end }}

{{- define "charla.volumes" -}}
volumes:
  - name: data
    emptyDir: {}
  - name: tmp
    emptyDir: {}
{{- end }}

{{/* the claim of the volume of attachments every hub mounts (files.persistence) */}}
{{- define "charla.filesClaim" -}}
{{- .Values.files.persistence.existingClaim | default (printf "%s-files" (include "charla.fullname" .)) -}}
{{- end }}
