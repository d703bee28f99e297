{{/* Names and labels shared by every template. */}}

{{- define "stups.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The object name of one service: <fullname>-<service> (63 characters at most). */}}
{{- define "stups.serviceName" -}}
{{- printf "%s-%s" (include "stups.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stups.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector of one service's pods; takes (dict "root" $ "name" $name). */}}
{{- define "stups.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{/* A service's effective settings: defaults, overridden by services.<name>. */}}
{{- define "stups.serviceValues" -}}
{{- $override := index .root.Values.services .name | default dict -}}
{{- $merged := mergeOverwrite (deepCopy .root.Values.defaults) (deepCopy $override) -}}
{{- /* mergeOverwrite skips "empty" values (false, 0): set those overrides explicitly. */ -}}
{{- if hasKey $override "enabled" }}{{ $_ := set $merged "enabled" $override.enabled }}{{ end -}}
{{- if hasKey $override "replicas" }}{{ $_ := set $merged "replicas" $override.replicas }}{{ end -}}
{{- range $flag := list "podDisruptionBudget" "autoscaling" -}}
{{- $given := index $override $flag | default dict -}}
{{- if hasKey $given "enabled" }}{{ $_ := set (index $merged $flag) "enabled" $given.enabled }}{{ end -}}
{{- end -}}
{{- $merged | toYaml -}}
{{- end -}}

{{/* The public host of a service. */}}
{{- define "stups.host" -}}
{{- $override := index .root.Values.services .name | default dict -}}
{{- $override.host | default (printf "%s.%s" .name .root.Values.publicUrls.domain) -}}
{{- end -}}

{{- define "stups.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "stups.fullname" .)) -}}
{{- end -}}

{{- define "stups.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "stups.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}
