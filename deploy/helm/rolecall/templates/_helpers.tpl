{{- define "rolecall.name" -}}{{ .Release.Name }}-rolecall{{- end -}}
{{- define "rolecall.labels" -}}
app.kubernetes.io/name: rolecall
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}
{{- define "rolecall.selector" -}}
app.kubernetes.io/name: rolecall
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "rolecall.secret" -}}{{ required "existingSecret: name an existing Secret with DATABASE_URL, REDIS_URL, ADMIN_SESSION_SECRET and METRICS_TOKEN" .Values.existingSecret }}{{- end -}}
{{- define "rolecall.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag }}{{- end -}}
{{- define "rolecall.podSecurity" -}}
runAsNonRoot: true
runAsUser: 1000
runAsGroup: 1000
fsGroup: 1000
seccompProfile:
  type: RuntimeDefault
{{- end -}}
{{- define "rolecall.containerSecurity" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}
{{- define "rolecall.volumes" -}}
- name: data
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- if .Values.rolesPersistence.enabled }}
- name: roles
  persistentVolumeClaim:
    claimName: {{ include "rolecall.name" . }}-roles
{{- end }}
{{- end -}}
{{- define "rolecall.mounts" -}}
- name: data
  mountPath: /app/.data
- name: tmp
  mountPath: /tmp
{{- if .Values.rolesPersistence.enabled }}
- name: roles
  mountPath: /app/roles
{{- end }}
{{- end -}}
{{- define "rolecall.seedRoles" -}}
{{- if .Values.rolesPersistence.enabled }}
initContainers:
  - name: seed-roles
    image: {{ include "rolecall.image" . }}
    imagePullPolicy: {{ .Values.image.pullPolicy }}
    command: ["sh", "-c", "[ -n \"$(ls -A /mnt/roles)\" ] || cp -R /app/roles/. /mnt/roles/"]
    securityContext:
      {{- include "rolecall.containerSecurity" . | nindent 6 }}
    resources:
      requests: { cpu: 10m, memory: 16Mi }
      limits: { cpu: 100m, memory: 64Mi }
    volumeMounts:
      - name: roles
        mountPath: /mnt/roles
{{- end }}
{{- end -}}
