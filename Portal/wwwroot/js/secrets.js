// Cogrion secrets: seals a secret in the browser to the workspace's Cluster Agent (docs/secrets.md).
// HPKE base mode (RFC 9180), DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, with WebCrypto only.
// The same format as Portal.Agent.Protocol/SealedSecrets.cs (which the agent opens, and `seal` produces).
// Served as a static file with Subresource Integrity; values are read from plain inputs that are not
// bound to Blazor, so no keystroke crosses the circuit; only ciphertext leaves this module.
"use strict";
(() => {
  const subtle = crypto.subtle;
  const utf8 = new TextEncoder();
  const INFO = "cogrion-secret-v1";
  const STATEMENT_TYPE = "cogrion-encryption-key+jws";
  const KEY_GRACE_SECONDS = 48 * 3600;
  const MAX_LIFETIME_SECONDS = 24 * 3600;
  const VERSION = utf8.encode("HPKE-v1");
  const KEM_SUITE = new Uint8Array([0x4b, 0x45, 0x4d, 0x00, 0x10]);
  const HPKE_SUITE = new Uint8Array([0x48, 0x50, 0x4b, 0x45, 0x00, 0x10, 0x00, 0x01, 0x00, 0x01]);

  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  };
  const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const fromBase64Url = (s) => fromBase64(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  const toBase64Url = (bytes) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
  const normalize = (fingerprint) => (fingerprint || "").replace(/[^0-9a-fA-F]/g, "").toUpperCase();

  class Refusal extends Error {}

  async function hmac(key, data) {
    const k = await subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    return new Uint8Array(await subtle.sign("HMAC", k, data));
  }
  // HKDF-Extract with an empty salt is HMAC keyed with HashLen zeros (RFC 5869); WebCrypto refuses empty HMAC keys.
  const labeledExtract = (suite, salt, label, ikm) =>
    hmac(salt.length ? salt : new Uint8Array(32), concat(VERSION, suite, utf8.encode(label), ikm));
  async function labeledExpand(suite, prk, label, info, length) {
    const block = await hmac(prk, concat(new Uint8Array([0, length]), VERSION, suite, utf8.encode(label), info, new Uint8Array([1])));
    return block.slice(0, length); // length <= 32: one HKDF-Expand block.
  }

  async function hpkeSeal(recipientPoint, aad, plaintext) {
    const recipient = await subtle.importKey("raw", recipientPoint, { name: "ECDH", namedCurve: "P-256" }, false, []);
    const ephemeral = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
    const dh = new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: recipient }, ephemeral.privateKey, 256));
    const enc = new Uint8Array(await subtle.exportKey("raw", ephemeral.publicKey));
    const prk = await labeledExtract(KEM_SUITE, new Uint8Array(0), "eae_prk", dh);
    const shared = await labeledExpand(KEM_SUITE, prk, "shared_secret", concat(enc, recipientPoint), 32);
    const context = concat(new Uint8Array([0]),
      await labeledExtract(HPKE_SUITE, new Uint8Array(0), "psk_id_hash", new Uint8Array(0)),
      await labeledExtract(HPKE_SUITE, new Uint8Array(0), "info_hash", utf8.encode(INFO)));
    const secret = await labeledExtract(HPKE_SUITE, shared, "secret", new Uint8Array(0));
    const key = await subtle.importKey("raw", await labeledExpand(HPKE_SUITE, secret, "key", context, 16), "AES-GCM", false, ["encrypt"]);
    const nonce = await labeledExpand(HPKE_SUITE, secret, "base_nonce", context, 12);
    const ciphertext = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 }, key, plaintext));
    return { enc, ciphertext };
  }

  async function fingerprintOf(spki) {
    const digest = new Uint8Array(await subtle.digest("SHA-256", spki)).slice(0, 16);
    return hex(digest).match(/.{4}/g).join(" ");
  }

  const pinKey = (userId, workspaceId) => `cogrion.secrets.pin.${userId}.${workspaceId}`;

  // The checks before any sealing: the identity key served has the fingerprint this browser pinned, the
  // statement is signed by it, for this tenant, workspace and agent, and not expired.
  async function verifiedKey(userId, offer) {
    const pinned = localStorage.getItem(pinKey(userId, offer.workspaceId));
    if (!pinned) throw new Refusal("No agent identity is confirmed for this workspace in this browser. Confirm its fingerprint first.");
    const spki = fromBase64(offer.identityPublicKey);
    const actual = await fingerprintOf(spki);
    if (normalize(actual) !== normalize(pinned))
      throw new Refusal(`The agent identity changed: the key served has fingerprint ${actual}, not the confirmed ${pinned}. ` +
        "Nothing was encrypted. A tenant admin must compare it with the cluster and confirm again.");
    const parts = (offer.statement || "").split(".");
    if (parts.length !== 3) throw new Refusal("The encryption key statement is malformed. Nothing was encrypted.");
    const header = JSON.parse(new TextDecoder().decode(fromBase64Url(parts[0])));
    if (header.alg !== "ES256" || header.typ !== STATEMENT_TYPE) throw new Refusal("The encryption key statement is not an ES256 statement.");
    const identity = await subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    const valid = await subtle.verify({ name: "ECDSA", hash: "SHA-256" }, identity, fromBase64Url(parts[2]), utf8.encode(parts[0] + "." + parts[1]));
    if (!valid) throw new Refusal("The encryption key is not signed by the confirmed agent identity. Nothing was encrypted.");
    const statement = JSON.parse(new TextDecoder().decode(fromBase64Url(parts[1])));
    if (statement.tenantId !== offer.tenantId || statement.workspaceId !== offer.workspaceId || statement.agentId !== offer.agentId)
      throw new Refusal("The encryption key statement is for another tenant, workspace or agent. Nothing was encrypted.");
    if (statement.notAfter <= Date.now() / 1000) throw new Refusal("The encryption key has expired. Nothing was encrypted.");
    const point = fromBase64Url(statement.publicKey);
    const keyId = toBase64Url(new Uint8Array(await subtle.digest("SHA-256", point)).slice(0, 16));
    if (keyId !== statement.keyId) throw new Refusal("The statement's key id does not match its key.");
    return { statement, point, fingerprint: actual };
  }

  const refusal = (e) => ({ ok: false, message: e instanceof Refusal ? e.message : `The browser could not check the key: ${e.message}` });

  window.cogrionSecrets = {
    fingerprintOf: async (spkiBase64) => fingerprintOf(fromBase64(spkiBase64)),

    pinned: (userId, workspaceId) => localStorage.getItem(pinKey(userId, workspaceId)),

    // The admin types the fingerprint read in the cluster (ConfigMap cogrion-agent/cogrion-agent-identity or
    // the agent's log); it is pinned only when it is the fingerprint of the identity key the Portal serves.
    async confirm(userId, offer, typed) {
      const actual = await fingerprintOf(fromBase64(offer.identityPublicKey));
      if (normalize(typed).length !== 32 || normalize(typed) !== normalize(actual))
        return { ok: false, message: "That is not the fingerprint of the agent identity the Portal serves. Nothing was confirmed." };
      localStorage.setItem(pinKey(userId, offer.workspaceId), actual);
      return { ok: true, message: `Confirmed agent identity ${actual} for this workspace in this browser.` };
    },

    async check(userId, offer) {
      try {
        const { statement, fingerprint } = await verifiedKey(userId, offer);
        return { ok: true, message: `Encrypting to key ${statement.keyId}, signed by the confirmed agent identity ${fingerprint}.` };
      } catch (e) {
        return refusal(e);
      }
    },

    // Reads each value from its plain input, seals it, clears the input; returns the sealed secret (JSON) or a refusal.
    async seal(userId, offer, request, inputIds, keepInputs = false) {
      try {
        const { statement, point } = await verifiedKey(userId, offer);
        const now = Math.floor(Date.now() / 1000);
        const header = {
          tenantId: offer.tenantId, workspaceId: offer.workspaceId, namespace: request.namespace, name: request.name,
          version: request.version, encryptionKeyId: statement.keyId, requestId: crypto.randomUUID(),
          notAfter: Math.min(statement.notAfter + KEY_GRACE_SECONDS, now + MAX_LIFETIME_SECONDS - 60),
        };
        const values = [];
        for (const [key, inputId] of Object.entries(inputIds).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          const input = document.getElementById(inputId);
          if (!input || input.value.length === 0) return { ok: false, message: `Enter a value for ${key}.` };
          const aad = utf8.encode([INFO, header.tenantId, header.workspaceId, header.namespace, header.name, key,
            String(header.version), header.encryptionKeyId, header.requestId, String(header.notAfter)].join("\n"));
          const { enc, ciphertext } = await hpkeSeal(point, aad, utf8.encode(input.value));
          values.push({ key, enc: toBase64Url(enc), ciphertext: toBase64Url(ciphertext) });
        }
        if (!keepInputs) for (const inputId of Object.values(inputIds)) document.getElementById(inputId).value = "";
        return { ok: true, sealed: JSON.stringify({ ...header, values }) };
      } catch (e) {
        return refusal(e);
      }
    },

    // The secret fields of a catalog app's form: each item names a Secret (namespace, name, version), its key and the plain
    // input holding the value. Empty inputs are skipped (that value stays as it is); when all are empty nothing is checked or
    // sealed. Returns one sealed secret (JSON) per filled input. The inputs are not cleared: the page leaves on success.
    async sealEach(userId, offer, items) {
      const filled = items.filter((item) => (document.getElementById(item.inputId)?.value || "").length > 0);
      if (filled.length === 0) return { ok: true, sealed: [] };
      if (!offer) return { ok: false, message: "The workspace's Cluster Agent has not published an encryption key: nothing was encrypted." };
      const sealed = [];
      for (const item of filled) {
        const answer = await this.seal(userId, offer, { namespace: item.namespace, name: item.name, version: item.version },
          { [item.key]: item.inputId }, true);
        if (!answer.ok) return { ok: false, message: answer.message, field: item.field };
        sealed.push(answer.sealed);
      }
      return { ok: true, sealed };
    },
  };
})();
