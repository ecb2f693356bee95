// Cogrion support access: the passkey ceremonies of a tenant admin (docs/support-access.md).
// register(): navigator.credentials.create() with the options the Portal made (Fido2), answered as JSON.
// sign(): navigator.credentials.get() over a challenge that is the SHA-256 of the grant (or approver set) text,
// computed HERE from the fields shown to the admin, so the page cannot have them sign something else than what
// they read. The Cluster Agent verifies the same signature against keys it pinned; the Portal only relays it.
// Served as a static file with Subresource Integrity, under a strict Content-Security-Policy.
"use strict";
(() => {
  const utf8 = new TextEncoder();
  const fromBase64Url = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  };
  const toBase64Url = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const sha256 = async (text) => new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(text)));
  const explain = (error) => (error && error.name === "NotAllowedError")
    ? "The passkey prompt was cancelled or timed out; nothing was signed."
    : `The passkey could not be used: ${error && error.message ? error.message : error}`;

  // The grant's canonical text: byte for byte Portal.Agent.Protocol/SupportAccess.cs SupportGrant.Canonical().
  const grantText = (g) => [
    "cogrion-support-grant-v1",
    `request:${g.requestId}`,
    `tenant:${g.tenantId}`,
    `workspace:${g.workspaceId}`,
    `agent:${g.agentId}`,
    `requester:${g.requesterId}`,
    `scope:${g.scope}`,
    `not-before:${g.notBefore}`,
    `not-after:${g.notAfter}`,
    "",
  ].join("\n");

  async function register(optionsJson) {
    try {
      const options = JSON.parse(optionsJson);
      const publicKey = {
        ...options,
        challenge: fromBase64Url(options.challenge),
        user: { ...options.user, id: fromBase64Url(options.user.id) },
        excludeCredentials: (options.excludeCredentials || []).map((c) => ({ ...c, id: fromBase64Url(c.id) })),
      };
      delete publicKey.status;
      delete publicKey.errorMessage;
      const credential = await navigator.credentials.create({ publicKey });
      const response = credential.response;
      return {
        ok: true,
        message: "Passkey created.",
        attestation: JSON.stringify({
          id: credential.id,
          rawId: toBase64Url(credential.rawId),
          type: credential.type,
          response: {
            attestationObject: toBase64Url(response.attestationObject),
            clientDataJSON: toBase64Url(response.clientDataJSON),
            transports: response.getTransports ? response.getTransports() : [],
          },
          clientExtensionResults: credential.getClientExtensionResults(),
        }),
      };
    } catch (error) {
      return { ok: false, message: explain(error) };
    }
  }

  // Signs the challenge of a grant (kind "grant", fields as shown) or an approver set (kind "approvers",
  // its canonical text as the Portal sent it, which the page shows in full).
  async function sign(kind, subject, credentialIds, rpId) {
    try {
      const text = kind === "grant" ? grantText(subject) : subject;
      const challenge = await sha256(text);
      const credential = await navigator.credentials.get({
        publicKey: {
          challenge,
          rpId,
          userVerification: "required",
          allowCredentials: credentialIds.map((id) => ({ type: "public-key", id: fromBase64Url(id) })),
          timeout: 120000,
        },
      });
      const response = credential.response;
      return {
        ok: true,
        message: "Signed with your passkey.",
        assertion: {
          credentialId: toBase64Url(credential.rawId),
          authenticatorData: toBase64Url(response.authenticatorData),
          clientDataJson: toBase64Url(response.clientDataJSON),
          signature: toBase64Url(response.signature),
        },
      };
    } catch (error) {
      return { ok: false, message: explain(error) };
    }
  }

  window.cogrionSupport = { register, sign };
})();
