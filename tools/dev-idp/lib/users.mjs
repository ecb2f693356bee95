// The demo user directory (users.json) and the Keycloak-shaped claims of each user.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

const REQUIRED = ['id', 'username', 'password', 'email', 'firstName', 'lastName'];

export function loadUsers(file, realm) {
  let list;
  try {
    list = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read users file ${file}: ${err.message}`);
  }
  if (!Array.isArray(list)) throw new Error(`users file ${file} must hold a JSON array`);

  // Keycloak gives every user the realm's default role, which is a composite of these two.
  const defaultRoles = [`default-roles-${realm}`, 'offline_access', 'uma_authorization'];
  const byId = new Map();
  const seenNames = new Set();
  for (const raw of list) {
    for (const field of REQUIRED) {
      if (typeof raw[field] !== 'string' || !raw[field]) {
        throw new Error(`users file: a user has no "${field}" (${raw.username ?? raw.id ?? '?'})`);
      }
    }
    const username = raw.username.toLowerCase(); // Keycloak stores usernames in lower case
    if (byId.has(raw.id) || seenNames.has(username)) throw new Error(`users file: duplicate user ${raw.username}`);
    seenNames.add(username);
    byId.set(raw.id, {
      ...raw,
      username,
      emailVerified: raw.emailVerified === true,
      realmRoles: [...new Set([...defaultRoles, ...(raw.realmRoles ?? [])])],
      clientRoles: raw.clientRoles ?? {},
    });
  }
  return new UserDirectory(byId);
}

function sameSecret(a, b) {
  // Hash first so the comparison takes the same time whatever the lengths.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

class UserDirectory {
  constructor(byId) {
    this.byId = byId;
  }

  get all() {
    return [...this.byId.values()];
  }

  findById(id) {
    return this.byId.get(id);
  }

  /** Like Keycloak: the login name may be the username or the e-mail, case-insensitively. */
  authenticate(login, password) {
    const name = String(login ?? '').trim().toLowerCase();
    if (!name || typeof password !== 'string' || !password) return undefined;
    const user = this.all.find((u) => u.username === name || u.email.toLowerCase() === name);
    if (!user || !sameSecret(password, user.password)) return undefined;
    return user;
  }

  /** The user's claims, named and shaped as Keycloak's default mappers produce them. */
  static claimsOf(user) {
    return {
      sub: user.id,
      preferred_username: user.username,
      email: user.email,
      email_verified: user.emailVerified,
      name: `${user.firstName} ${user.lastName}`.trim(),
      given_name: user.firstName,
      family_name: user.lastName,
      realm_access: { roles: user.realmRoles },
      // Keycloak's client-role mapper: roles of each client, under the client's id.
      ...(Object.keys(user.clientRoles).length > 0
        ? { resource_access: Object.fromEntries(Object.entries(user.clientRoles).map(([client, roles]) => [client, { roles }])) }
        : {}),
    };
  }
}

export const claimsOf = UserDirectory.claimsOf;
