# Versioned, KMS-encrypted, private S3 bucket for the OpenTofu state of every workspace in this account
# and region (one object per workspace: workspaces/<workspace_id>/terraform.tfstate), and a DynamoDB
# table for state locks. Destroying either is deliberately hard: it would orphan every workspace.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # Account id and region make the name globally unique without a random suffix, so the Portal can
  # compute it without reading any state.
  bucket_name = "cogrion-tfstate-${data.aws_caller_identity.current.account_id}-${var.region}"
  lock_table  = "cogrion-tfstate-locks"

  tags = {
    "cogrion-tenant-id"        = var.tenant_id
    "cogrion-cloud-account-id" = var.cloud_account_id
    "cogrion-managed-by"       = "cogrion-portal"
    "cogrion-purpose"          = "opentofu-state"
  }
}

resource "terraform_data" "region_guard" {
  input = var.region

  lifecycle {
    precondition {
      condition     = data.aws_region.current.name == var.region
      error_message = "The aws provider is configured for ${data.aws_region.current.name} but the state backend's region is ${var.region}."
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Cogrion: OpenTofu state of the workspaces in this account and region"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = local.tags

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "state" {
  name          = "alias/cogrion-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

module "state_bucket" {
  source  = "terraform-aws-modules/s3-bucket/aws"
  version = "4.11.0"

  bucket = local.bucket_name

  # A bucket with state in it is never emptied by a destroy.
  force_destroy = false

  # Every state write is a new version: a bad apply can be rolled back by restoring the previous one.
  versioning = {
    enabled = true
  }

  server_side_encryption_configuration = {
    rule = {
      apply_server_side_encryption_by_default = {
        sse_algorithm     = "aws:kms"
        kms_master_key_id = aws_kms_key.state.arn
      }
      bucket_key_enabled = true
    }
  }

  # Private in every way S3 offers: no ACLs, no public policies, TLS 1.2+ only.
  block_public_acls                     = true
  block_public_policy                   = true
  ignore_public_acls                    = true
  restrict_public_buckets               = true
  control_object_ownership              = true
  object_ownership                      = "BucketOwnerEnforced"
  attach_deny_insecure_transport_policy = true
  attach_require_latest_tls_policy      = true

  lifecycle_rule = [
    {
      id                                     = "expire-old-state-versions"
      enabled                                = true
      abort_incomplete_multipart_upload_days = 7
      noncurrent_version_expiration = {
        days = 365
      }
    }
  ]

  tags = local.tags
}

resource "aws_dynamodb_table" "locks" {
  name         = local.lock_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.state.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  deletion_protection_enabled = true
  tags                        = local.tags

  lifecycle {
    prevent_destroy = true
  }
}
