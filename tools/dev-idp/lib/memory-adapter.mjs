// A small in-memory storage adapter for oidc-provider.
//
// oidc-provider ships a quick-start memory adapter too, but it prints a warning on every start and
// keeps at most 1000 entries (an LRU), so a long browser-test run could silently lose sessions.
// This one keeps everything until it expires. Nothing survives a restart, which is what a dev IdP wants.

const entries = new Map(); // "Model:id" -> { payload, expiresAt (ms) }
const grantMembers = new Map(); // grantId -> Set of "Model:id" keys issued under that grant
const sessionIdsByUid = new Map(); // Session uid -> Session id
const idsByUserCode = new Map(); // device-flow user code -> DeviceCode id (unused here, part of the interface)

// Models whose artefacts must die with their grant (logout, refresh-token reuse, revocation).
const GRANT_BOUND = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest']);

function live(key) {
  const entry = entries.get(key);
  if (!entry) return undefined;
  if (entry.expiresAt <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry.payload;
}

export class MemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    entries.set(key, { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) sessionIdsByUid.set(payload.uid, id);
    if (payload.userCode) idsByUserCode.set(payload.userCode, id);
    if (payload.grantId && GRANT_BOUND.has(this.model)) {
      if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
      grantMembers.get(payload.grantId).add(key);
    }
  }

  async find(id) {
    return live(this.key(id));
  }

  async findByUid(uid) {
    const id = sessionIdsByUid.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode) {
    const id = idsByUserCode.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id) {
    const payload = live(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    entries.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const key of grantMembers.get(grantId) ?? []) entries.delete(key);
    grantMembers.delete(grantId);
  }
}

// Drop expired entries and dangling index rows once a minute.
setInterval(() => {
  const now = Date.now();
  for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  for (const [uid, id] of sessionIdsByUid) if (!entries.has(`Session:${id}`)) sessionIdsByUid.delete(uid);
  for (const [code, id] of idsByUserCode) if (!entries.has(`DeviceCode:${id}`)) idsByUserCode.delete(code);
  for (const [grantId, keys] of grantMembers) {
    for (const key of keys) if (!entries.has(key)) keys.delete(key);
    if (keys.size === 0) grantMembers.delete(grantId);
  }
}, 60_000).unref();
