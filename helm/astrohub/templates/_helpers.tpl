{{- define "astrohub.archiveRoot" -}}
http://astrohub-dachs.{{ .Release.Namespace }}.svc:8080
{{- end -}}

{{- define "astrohub.archiveUrl" -}}
{{- if .Values.archive.dachs.enabled -}}
{{ include "astrohub.archiveRoot" . }}/tap
{{- else -}}
{{ .Values.archive.tapUrl }}
{{- end -}}
{{- end -}}

{{- define "astrohub.labels" -}}
app.kubernetes.io/name: astrohub
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
