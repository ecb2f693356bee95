using System.Security.Cryptography;
using System.Text;
using Cogrion.Agent.Protocol;

namespace Cogrion.Portal.Tests.Secrets;

/// <summary>
/// HPKE against RFC 9180 Appendix A.3.1 (DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, mode_base),
/// the published known-answer values, byte for byte; and the sealed-secret rules built on it.
/// </summary>
public sealed class HpkeTests
{
    private static readonly byte[] Info = Convert.FromHexString("4f6465206f6e2061204772656369616e2055726e");
    private static readonly byte[] SkEm = Convert.FromHexString("4995788ef4b9d6132b249ce59a77281493eb39af373d236a1fe415cb0c2d7beb");
    private static readonly byte[] PkEm = Convert.FromHexString(
        "04a92719c6195d5085104f469a8b9814d5838ff72b60501e2c4466e5e67b325ac98536d7b61a1af4b78e5b7f951c0900be863c403ce65c9bfcb9382657222d18c4");
    private static readonly byte[] SkRm = Convert.FromHexString("f3ce7fdae57e1a310d87f1ebbde6f328be0a99cdbcadf4d6589cf29de4b8ffd2");
    private static readonly byte[] PkRm = Convert.FromHexString(
        "04fe8c19ce0905191ebc298a9245792531f26f0cece2460639e8bc39cb7f706a826a779b4cf969b8a0e539c7f62fb3d30ad6aa8f80e30f1d128aafd68a2ce72ea0");
    private static readonly byte[] SharedSecret = Convert.FromHexString("c0d26aeab536609a572b07695d933b589dcf363ff9d93c93adea537aeabb8cb8");
    private static readonly byte[] Key = Convert.FromHexString("868c066ef58aae6dc589b6cfdd18f97e");
    private static readonly byte[] BaseNonce = Convert.FromHexString("4e0bc5018beba4bf004cca59");
    private static readonly byte[] Plaintext = Convert.FromHexString("4265617574792069732074727574682c20747275746820626561757479");
    private static readonly byte[] Aad0 = Convert.FromHexString("436f756e742d30");
    private static readonly byte[] Ciphertext0 = Convert.FromHexString(
        "5ad590bb8baa577f8619db35a36311226a896e7342a6d836d8b7bcd2f20b6c7f9076ac232e3ab2523f39513434");

    private static ECDiffieHellman Import(byte[] d, byte[] encodedPublic) => ECDiffieHellman.Create(new ECParameters
    {
        Curve = ECCurve.NamedCurves.nistP256,
        D = d,
        Q = new ECPoint { X = encodedPublic[1..33], Y = encodedPublic[33..] },
    });

    [Fact]
    public void The_kem_shared_secret_and_key_schedule_match_rfc_9180_a_3_1()
    {
        using var recipient = Import(SkRm, PkRm);
        using var ephemeral = Hpke.DeserializePublicKey(PkEm);
        var dh = recipient.DeriveRawSecretAgreement(ephemeral.PublicKey);
        var shared = Hpke.ExtractAndExpand(dh, [.. PkEm, .. PkRm]);
        Assert.Equal(Convert.ToHexString(SharedSecret), Convert.ToHexString(shared));
        var (key, nonce) = Hpke.KeySchedule(shared, Info);
        Assert.Equal(Convert.ToHexString(Key), Convert.ToHexString(key));
        Assert.Equal(Convert.ToHexString(BaseNonce), Convert.ToHexString(nonce));
    }

    [Fact]
    public void Sealing_with_the_vectors_ephemeral_key_gives_the_published_enc_and_ciphertext()
    {
        using var ephemeral = Import(SkEm, PkEm);
        var (enc, ciphertext) = Hpke.Seal(ephemeral, PkRm, Info, Aad0, Plaintext);
        Assert.Equal(Convert.ToHexString(PkEm), Convert.ToHexString(enc));
        Assert.Equal(Convert.ToHexString(Ciphertext0), Convert.ToHexString(ciphertext));
    }

    [Fact]
    public void The_recipient_opens_the_published_ciphertext()
    {
        using var recipient = Import(SkRm, PkRm);
        Assert.Equal(Plaintext, Hpke.Open(recipient, PkEm, Info, Aad0, Ciphertext0));
    }

    [Fact]
    public void A_changed_aad_or_ciphertext_does_not_open()
    {
        using var recipient = Import(SkRm, PkRm);
        Assert.ThrowsAny<CryptographicException>(() => Hpke.Open(recipient, PkEm, Info, "Count-1"u8, Ciphertext0));
        var tampered = Ciphertext0.ToArray();
        tampered[3] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => Hpke.Open(recipient, PkEm, Info, Aad0, tampered));
    }

    [Fact]
    public void A_public_key_off_the_curve_is_refused()
    {
        var bad = PkRm.ToArray();
        bad[64] ^= 1;
        Assert.ThrowsAny<CryptographicException>(() => Hpke.DeserializePublicKey(bad));
        Assert.ThrowsAny<CryptographicException>(() => Hpke.DeserializePublicKey(PkRm.AsSpan(0, 33)));
    }

    [Fact]
    public void A_sealed_secret_opens_only_for_the_fields_it_was_sealed_for()
    {
        using var recipient = Hpke.CreateKeyPair();
        var point = Hpke.SerializePublicKey(recipient);
        var header = new SealedSecret(Guid.NewGuid(), Guid.NewGuid(), "airflow", "db-password", 3, SealedSecrets.EncryptionKeyId(point),
            Guid.NewGuid(), DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(), []);
        var sealedSecret = SealedSecrets.Seal(header, new Dictionary<string, byte[]> { ["password"] = "hunter2"u8.ToArray() }, point);

        Assert.Equal("hunter2", Encoding.UTF8.GetString(SealedSecrets.Open(sealedSecret, recipient)["password"]));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.Open(sealedSecret with { Version = 4 }, recipient));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.Open(sealedSecret with { Namespace = "superset" }, recipient));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.Open(sealedSecret with { WorkspaceId = Guid.NewGuid() }, recipient));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.Open(sealedSecret with { NotAfter = sealedSecret.NotAfter + 3600 }, recipient));
        var moved = sealedSecret with { Values = [sealedSecret.Values[0] with { Key = "username" }] };
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.Open(moved, recipient));
    }

    [Fact]
    public void A_statement_is_trusted_only_when_signed_by_the_key_with_the_pinned_fingerprint()
    {
        using var identity = ProtocolKeys.Create();
        using var impostor = ProtocolKeys.Create();
        using var encryption = Hpke.CreateKeyPair();
        var point = Hpke.SerializePublicKey(encryption);
        var (tenant, workspace, now) = (Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UtcNow);
        var statement = new EncryptionKeyStatement(tenant, workspace, Guid.NewGuid(), SealedSecrets.EncryptionKeyId(point),
            System.Buffers.Text.Base64Url.EncodeToString(point), now.AddDays(7).ToUnixTimeSeconds());
        var signed = Jws.Sign(statement, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, null, identity);
        var forged = Jws.Sign(statement, ProtocolJson.Default.EncryptionKeyStatement, SealedSecrets.StatementJwsType, null, impostor);
        var pinned = SealedSecrets.Fingerprint(identity);

        Assert.Matches("^([0-9A-F]{4} ){7}[0-9A-F]{4}$", pinned);
        Assert.Equal(statement.KeyId, SealedSecrets.VerifyStatement(pinned.ToLowerInvariant(), ProtocolKeys.ExportPublicKey(identity), signed,
            tenant, workspace, now).KeyId);
        // The Portal substitutes the identity key too: the fingerprint gives it away.
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.VerifyStatement(pinned, ProtocolKeys.ExportPublicKey(impostor), forged,
            tenant, workspace, now));
        // Or only the statement: its signature does.
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.VerifyStatement(pinned, ProtocolKeys.ExportPublicKey(identity), forged,
            tenant, workspace, now));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.VerifyStatement(pinned, ProtocolKeys.ExportPublicKey(identity), signed,
            tenant, Guid.NewGuid(), now));
        Assert.ThrowsAny<CryptographicException>(() => SealedSecrets.VerifyStatement(pinned, ProtocolKeys.ExportPublicKey(identity), signed,
            tenant, workspace, now.AddDays(8)));
    }
}
