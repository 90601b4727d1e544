{{/* The chart's name, cut to the 63 characters a label value allows. */}}
{{- define "nodediag.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's objects' name: the release name alone when it already says nodediag, so that
`helm install nodediag` makes "nodediag" rather than "nodediag-nodediag".
*/}}
{{- define "nodediag.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "nodediag.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodediag.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "nodediag.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "nodediag.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "nodediag.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nodediag.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the token file: the user's, or the one the chart makes. */}}
{{- define "nodediag.secretName" -}}
{{- default (include "nodediag.fullname" .) .Values.auth.existingSecret }}
{{- end }}

{{/*
Where the image's serve reads the token (internal/image TokenFile) and keeps its store
(internal/image StateDir); the chart's test holds these to that package's constants.
*/}}
{{- define "nodediag.tokenDir" -}}/var/run/nodediag{{- end }}
{{- define "nodediag.tokenFile" -}}/var/run/nodediag/token{{- end }}
{{- define "nodediag.stateDir" -}}/var/lib/nodediag{{- end }}
{{/* The port serve listens on in the image (internal/image Port). */}}
{{- define "nodediag.containerPort" -}}8080{{- end }}

{{/*
The token file the chart's Secret holds: lines name:token when auth.callers is set, else the one
token, else the token this release already has (so an upgrade does not change it), else a new
random one.
*/}}
{{- define "nodediag.tokenFileContent" -}}
{{- if and .Values.auth.token .Values.auth.callers }}
{{- fail "auth.token and auth.callers: give one bare token or several name: token callers, not both" }}
{{- end }}
{{- if .Values.auth.callers }}
{{- range $name, $tok := .Values.auth.callers }}{{ printf "%s:%s\n" $name (toString $tok) }}{{- end }}
{{- else if .Values.auth.token }}
{{- .Values.auth.token }}
{{- else }}
{{- $old := lookup "v1" "Secret" .Release.Namespace (include "nodediag.fullname" .) }}
{{- if and $old $old.data (index $old.data .Values.auth.secretKey) }}
{{- index $old.data .Values.auth.secretKey | b64dec }}
{{- else }}
{{- randAlphaNum 48 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The Secret and key Prometheus reads its bearer token from: the one the user names, else the
chart's Secret (its token key with one bare token; metrics-token, the serviceMonitor.caller's
token alone, with callers).
*/}}
{{- define "nodediag.metricsTokenRef" -}}
{{- if .Values.serviceMonitor.tokenSecret.name }}
name: {{ .Values.serviceMonitor.tokenSecret.name }}
key: {{ required "serviceMonitor.tokenSecret.key: the key of serviceMonitor.tokenSecret.name holding the token" .Values.serviceMonitor.tokenSecret.key }}
{{- else if .Values.auth.existingSecret }}
{{- fail "serviceMonitor with auth.existingSecret: set serviceMonitor.tokenSecret.name and .key to a Secret key holding one caller's bare token (the token file of several callers is not a token)" }}
{{- else if .Values.auth.callers }}
name: {{ include "nodediag.fullname" . }}
key: metrics-token
{{- else }}
name: {{ include "nodediag.fullname" . }}
key: {{ .Values.auth.secretKey }}
{{- end }}
{{- end }}

{{/*
The capture agent's pod labels: a name of its own, so that the server's Service and
NetworkPolicy, which select nodediag.selectorLabels, never select an agent pod.
*/}}
{{- define "nodediag.agentSelectorLabels" -}}
app.kubernetes.io/name: {{ include "nodediag.name" . | trunc 57 | trimSuffix "-" }}-agent
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: agent
{{- end }}
