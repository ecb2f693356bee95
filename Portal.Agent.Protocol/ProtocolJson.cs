using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Cogrion.Agent.Protocol;

/// <summary>Source-generated JSON for every protocol message: the agent is Native AOT and must not reflect.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RegistrationRequest))]
[JsonSerializable(typeof(RegistrationResponse))]
[JsonSerializable(typeof(TokenRequest))]
[JsonSerializable(typeof(TokenResponse))]
[JsonSerializable(typeof(AssertionClaims))]
[JsonSerializable(typeof(JwsHeader))]
[JsonSerializable(typeof(CommandBatch))]
[JsonSerializable(typeof(CommandEnvelope))]
[JsonSerializable(typeof(CommandResult))]
[JsonSerializable(typeof(KeyRotationRequest))]
[JsonSerializable(typeof(HeartbeatRequest))]
[JsonSerializable(typeof(HeartbeatResponse))]
[JsonSerializable(typeof(ClusterInventory))]
[JsonSerializable(typeof(EnsureNamespacePayload))]
[JsonSerializable(typeof(DeleteNamespacePayload))]
[JsonSerializable(typeof(UninstallPayload))]
[JsonSerializable(typeof(AppReport))]
[JsonSerializable(typeof(List<AppReport>))]
[JsonSerializable(typeof(ApplyManifestPayload))]
[JsonSerializable(typeof(DeleteManifestPayload))]
[JsonSerializable(typeof(UpgradePayload))]
[JsonSerializable(typeof(ProblemDetailsMessage))]
[JsonSerializable(typeof(EncryptionKeyStatement))]
[JsonSerializable(typeof(EncryptionKeyPublication))]
[JsonSerializable(typeof(SealedSecret))]
[JsonSerializable(typeof(List<SealedSecret>))]
[JsonSerializable(typeof(ReconcileReleasePayload))]
[JsonSerializable(typeof(EncryptionKeyOffer))]
[JsonSerializable(typeof(ApplySecretPayload))]
[JsonSerializable(typeof(DeleteSecretPayload))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
public sealed partial class ProtocolJson : JsonSerializerContext;
