# The state backend of one cloud account and region: the first run in that account and region applies
# this module with local state, then moves its own state into the bucket it created (docs/adr/0041).

variable "tenant_id" {
  description = "The Portal's id (UUID) of the tenant that owns the cloud account. Tagged on every resource."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.tenant_id))
    error_message = "tenant_id must be a lowercase UUID."
  }
}

variable "cloud_account_id" {
  description = "The Portal's id (UUID) of the cloud account record. Tagged on every resource."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.cloud_account_id))
    error_message = "cloud_account_id must be a lowercase UUID."
  }
}

variable "region" {
  description = "The region the state bucket lives in; must equal the provider's region (checked)."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as eu-central-1."
  }
}
