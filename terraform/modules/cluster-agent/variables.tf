# Inputs of the shared Cluster Agent installation. The cloud modules (terraform/aws, terraform/alicloud)
# call this module with values they have already validated; the checks here are a second line of defence.

variable "tenant_id" {
  description = "The Portal's id (UUID) of the tenant that owns the cluster; written as a label on every object."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.tenant_id))
    error_message = "tenant_id must be a lowercase UUID."
  }
}

variable "workspace_id" {
  description = "The Portal's id (UUID) of the workspace this cluster belongs to; written as a label on every object."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.workspace_id))
    error_message = "workspace_id must be a lowercase UUID."
  }
}

variable "agent_image" {
  description = "Container image of the Cluster Agent, pinned by tag or digest (never a moving 'latest')."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?/[a-z0-9._/-]+(@sha256:[0-9a-f]{64}|:[A-Za-z0-9._-]{1,128})$", var.agent_image)) && !endswith(var.agent_image, ":latest")
    error_message = "agent_image must be registry/repository:tag or registry/repository@sha256:digest, and not ':latest'."
  }
}

variable "portal_url" {
  description = "HTTPS base URL of the Portal. The agent only ever connects out to it."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$", var.portal_url))
    error_message = "portal_url must be an https:// URL without query or fragment."
  }
}

variable "bootstrap_token" {
  description = "One-time registration token the agent exchanges for its own key on first start. Written once into a Secret; never output."
  type        = string
  sensitive   = true

  validation {
    condition     = length(var.bootstrap_token) >= 32 && length(var.bootstrap_token) <= 512
    error_message = "bootstrap_token must be between 32 and 512 characters."
  }
}

variable "service_account_annotations" {
  description = "Annotations on the agent's service account that bind it to a cloud role (IRSA on AWS, RRSA on AliCloud)."
  type        = map(string)
  default     = {}
}

variable "namespace_labels" {
  description = "Extra labels on the agent's namespace (e.g. the RRSA webhook's injection switch on AliCloud)."
  type        = map(string)
  default     = {}
}
