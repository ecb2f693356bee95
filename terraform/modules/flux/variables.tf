# Inputs of the shared Flux installation. The cloud modules (terraform/aws, terraform/alicloud) call
# this module with values they have already validated; the checks here are a second line of defence.

variable "tenant_id" {
  description = "The Portal's id (UUID) of the tenant that owns the cluster; labelled on Flux's controllers."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.tenant_id))
    error_message = "tenant_id must be a lowercase UUID."
  }
}

variable "workspace_id" {
  description = "The Portal's id (UUID) of the workspace this cluster belongs to; labelled on Flux's controllers."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.workspace_id))
    error_message = "workspace_id must be a lowercase UUID."
  }
}
