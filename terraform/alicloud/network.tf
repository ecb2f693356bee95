# VPC and VSwitches from the alibaba/vpc module: private VSwitches first, then public ones, one of
# each per zone. AliCloud has no public/private subnet flag: a VSwitch is "private" because nothing
# in it has a public address and its outbound traffic leaves through the NAT gateway's SNAT entries.
module "vpc" {
  source  = "alibaba/vpc/alicloud"
  version = "1.11.0"

  create          = true
  vpc_name        = local.name
  vpc_cidr        = var.network_cidr
  vpc_description = "Cogrion workspace ${var.workspace_name}"

  availability_zones  = concat(local.zone_ids, local.zone_ids)
  vswitch_cidrs       = concat(local.private_cidrs, local.public_cidrs)
  vswitch_name        = local.name
  vswitch_description = "Cogrion workspace ${var.workspace_name}"

  vpc_tags     = local.tags
  vswitch_tags = local.tags
}

locals {
  private_vswitch_ids = slice(module.vpc.this_vswitch_ids, 0, local.zone_count)
  public_vswitch_ids  = slice(module.vpc.this_vswitch_ids, local.zone_count, 2 * local.zone_count)
}

# The NAT gateway: provider resources, because the collection's nat-gateway module predates enhanced
# NAT gateways. An enhanced NAT gateway adds the VPC's 0.0.0.0/0 route to itself when created.
resource "alicloud_nat_gateway" "this" {
  vpc_id           = module.vpc.this_vpc_id
  vswitch_id       = local.public_vswitch_ids[0]
  nat_gateway_name = local.name
  description      = "Cogrion workspace ${var.workspace_name}: outbound internet for the private VSwitches"
  nat_type         = "Enhanced"
  network_type     = "internet"
  payment_type     = "PayAsYouGo"
  tags             = local.tags
}

resource "alicloud_eip_address" "nat" {
  address_name         = "${local.name}-nat"
  description          = "Cogrion workspace ${var.workspace_name}: NAT gateway address"
  bandwidth            = "200"
  internet_charge_type = "PayByTraffic"
  payment_type         = "PayAsYouGo"
  tags                 = local.tags
}

resource "alicloud_eip_association" "nat" {
  allocation_id = alicloud_eip_address.nat.id
  instance_id   = alicloud_nat_gateway.this.id
  instance_type = "Nat"
}

# Outbound only (SNAT): nothing is forwarded in (no DNAT entries).
resource "alicloud_snat_entry" "private" {
  count = local.zone_count

  snat_table_id     = alicloud_nat_gateway.this.snat_table_ids
  source_vswitch_id = local.private_vswitch_ids[count.index]
  snat_ip           = alicloud_eip_address.nat.ip_address
  snat_entry_name   = "${local.name}-${count.index}"

  depends_on = [alicloud_eip_association.nat]
}
