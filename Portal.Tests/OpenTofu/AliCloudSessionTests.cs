using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Cogrion.Portal.Infrastructure.OpenTofu;
using Cogrion.Portal.Infrastructure.OpenTofu.AliCloud;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cogrion.Portal.Tests.OpenTofu;

/// <summary>
/// AliCloud runs: the runner assumes the tenant's RAM role with the external ID (against a simulated
/// STS that checks the signature as AliCloud documents it) and gives the session to each tofu process.
/// The processes are played from recorded OpenTofu output (the sandbox simulates the AWS stack only).
/// </summary>
public sealed class AliCloudSessionTests : IAsyncLifetime
{
    private const string RoleArn = "acs:ram::1234567890123456:role/cogrion-portal";
    private const string ExternalId = "cgr-ext-7f3a9c51";

    private SimulatedAliCloudSts sts = null!;
    private readonly SandboxWorkspace workspace = new();

    public async Task InitializeAsync()
    {
        sts = await SimulatedAliCloudSts.StartAsync();
        sts.Roles[RoleArn] = ExternalId;
        workspace.Options.AliCloudStsEndpoint = sts.Endpoint;
    }

    public async Task DisposeAsync()
    {
        workspace.Dispose();
        await sts.DisposeAsync();
    }

    [Fact]
    public async Task Every_tofu_process_of_an_alicloud_run_gets_the_session_assumed_with_the_external_id()
    {
        var tofu = new RecordedTofu();

        var result = await workspace.Runner(Sessions(), _ => tofu).PlanAsync(AliCloudRequest(), new CollectingRunLog(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        var assumed = Assert.Single(sts.IssuedSessions); // version, init, plan and show: all well inside the hour.
        Assert.Equal((RoleArn, ExternalId, "cogrion-acme-dev"), (assumed.RoleArn, assumed.ExternalId, assumed.SessionName));
        Assert.Equal(["version", "init", "plan", "show"], tofu.Invocations.Select(i => i.Arguments[0]));
        Assert.All(tofu.Invocations, invocation =>
        {
            Assert.Equal(assumed.AccessKeyId, invocation.Environment["ALICLOUD_ACCESS_KEY"]);
            Assert.Equal(assumed.AccessKeySecret, invocation.Environment["ALICLOUD_SECRET_KEY"]);
            Assert.Equal(assumed.SecurityToken, invocation.Environment["ALICLOUD_SECURITY_TOKEN"]);
            Assert.Equal("cn-hangzhou", invocation.Environment["ALICLOUD_REGION"]);
        });
    }

    [Fact]
    public async Task Plan_and_apply_are_separate_so_an_apply_after_an_approval_wait_assumes_the_role_again()
    {
        var tofu = new RecordedTofu();
        var runner = workspace.Runner(Sessions(), _ => tofu);
        var request = AliCloudRequest();

        Assert.True((await runner.PlanAsync(request, new CollectingRunLog(), CancellationToken.None)).Succeeded);
        var apply = await runner.ApplyAsync(request, new CollectingRunLog(), CancellationToken.None);

        Assert.True(apply.Succeeded, apply.Error);
        Assert.Equal(2, sts.IssuedSessions.Count);
        Assert.Equal(sts.IssuedSessions.Last().AccessKeyId, tofu.Invocations.Single(i => i.Arguments[0] == "apply")
            .Environment["ALICLOUD_ACCESS_KEY"]);
    }

    [Fact]
    public async Task A_session_with_ten_minutes_or_less_left_is_not_reused_each_process_gets_a_fresh_one()
    {
        sts.SessionLifetime = TimeSpan.FromMinutes(9);
        var tofu = new RecordedTofu();

        var result = await workspace.Runner(Sessions(), _ => tofu).PlanAsync(AliCloudRequest(), new CollectingRunLog(), CancellationToken.None);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(4, sts.IssuedSessions.Count);
        Assert.Equal(sts.IssuedSessions.Select(s => s.AccessKeyId), tofu.Invocations.Select(i => i.Environment["ALICLOUD_ACCESS_KEY"]));
    }

    [Fact]
    public async Task The_session_secrets_appear_in_no_log_line_and_not_in_the_error_even_when_tofu_prints_them()
    {
        var log = new CollectingRunLog();

        var result = await workspace.Runner(Sessions(), _ => new InitPrintsItsCredentials(new RecordedTofu()))
            .RunAsync(AliCloudRequest(), log, CancellationToken.None);

        Assert.Equal((TofuRunStatus.Failed, TofuStage.Init), (result.Status, result.Stage));
        var session = Assert.Single(sts.IssuedSessions);
        var everything = string.Join('\n', log.Lines.Select(l => l.ToString())) + JsonSerializer.Serialize(result);
        Assert.DoesNotContain(session.AccessKeySecret, everything);
        Assert.DoesNotContain(session.SecurityToken, everything);
        Assert.Contains("[redacted]", result.Error);
    }

    [Fact]
    public async Task A_refused_assume_role_fails_the_run_in_its_first_stage_in_plain_words_and_starts_no_tofu()
    {
        sts.Roles[RoleArn] = "another-external-id";
        var tofu = new RecordedTofu();
        var log = new CollectingRunLog();

        var result = await workspace.Runner(Sessions(), _ => tofu).RunAsync(AliCloudRequest(), log, CancellationToken.None);

        Assert.Equal((TofuRunStatus.Failed, TofuStage.CheckVersion), (result.Status, result.Stage));
        Assert.StartsWith($"AliCloud STS refused to assume {RoleArn}: NoPermission: You are not authorized to do this action", result.Error);
        Assert.Contains($"Check that the role's trust policy allows the Cogrion principal with the external ID {ExternalId}", result.Error);
        Assert.Contains(log.Lines, l => l.Level == RunLogLevel.Error && l.Text.Contains("NoPermission", StringComparison.Ordinal));
        Assert.Empty(tofu.Invocations);
    }

    [Fact]
    public async Task Without_a_key_of_its_own_the_Portal_names_the_environment_variables_it_needs()
    {
        var tofu = new RecordedTofu();

        var result = await workspace.Runner(Sessions(principal: null), _ => tofu)
            .RunAsync(AliCloudRequest(), new CollectingRunLog(), CancellationToken.None);

        Assert.Equal((TofuRunStatus.Failed, TofuStage.CheckVersion), (result.Status, result.Stage));
        Assert.Contains("set ALICLOUD_ACCESS_KEY and ALICLOUD_SECRET_KEY (plus ALICLOUD_SECURITY_TOKEN if they are temporary) in the Portal's " +
            "environment", result.Error);
        Assert.Empty(tofu.Invocations);
        Assert.Empty(sts.Requests);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_as_a_signature_mismatch_and_points_at_the_Portals_own_key()
    {
        var result = await workspace.Runner(Sessions(new AliCloudCredentials("LTAI5tPortalTestKey", "not-the-secret", null)), _ => new RecordedTofu())
            .RunAsync(AliCloudRequest(), new CollectingRunLog(), CancellationToken.None);

        Assert.Equal(TofuRunStatus.Failed, result.Status);
        Assert.Contains("SignatureDoesNotMatch: Specified signature is not matched with our calculation", result.Error);
        Assert.Contains("Check the Portal's own AliCloud key (ALICLOUD_ACCESS_KEY, ALICLOUD_SECRET_KEY, ALICLOUD_SECURITY_TOKEN)", result.Error);
        Assert.DoesNotContain("not-the-secret", result.Error);
    }

    [Fact]
    public async Task The_request_carries_AliClouds_common_parameters_and_every_call_a_new_nonce()
    {
        var client = Client(Principal);
        var role = new AssumedRole(RoleArn, ExternalId, "cogrion-test");

        await client.AssumeRoleAsync(role, CancellationToken.None);
        await client.AssumeRoleAsync(role, CancellationToken.None);

        var requests = sts.Requests.ToList();
        Assert.All(requests, r => Assert.Equal(
            ("AssumeRole", "2015-04-01", "JSON", "HMAC-SHA1", "1.0", ExternalId, "3600"),
            (r["Action"], r["Version"], r["Format"], r["SignatureMethod"], r["SignatureVersion"], r["ExternalId"], r["DurationSeconds"])));
        Assert.NotEqual(requests[0]["SignatureNonce"], requests[1]["SignatureNonce"]);
        Assert.Equal(2, sts.IssuedSessions.Count);
    }

    [Fact]
    public async Task Aws_and_sandbox_runs_ask_sts_for_nothing()
    {
        var sessions = Sessions();

        var sandbox = await workspace.Runner(sessions).RunAsync(workspace.Request(), new CollectingRunLog(), CancellationToken.None);
        var aws = await sessions.SessionForAsync(workspace.Request(provider: TofuProvider.Aws), CancellationToken.None);

        Assert.True(sandbox.Succeeded, sandbox.Error);
        Assert.Empty(aws.Environment);
        Assert.Empty(sts.Requests);
    }

    [Fact]
    public void The_signature_is_the_one_AliClouds_documentation_works_out_for_its_example()
    {
        // "Signature mechanism", example: DescribeRegions with AccessKey testid / testsecret.
        var parameters = new Dictionary<string, string>
        {
            ["TimeStamp"] = "2016-02-23T12:46:24Z",
            ["Format"] = "XML",
            ["AccessKeyId"] = "testid",
            ["Action"] = "DescribeRegions",
            ["SignatureMethod"] = "HMAC-SHA1",
            ["SignatureNonce"] = "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            ["Version"] = "2014-05-26",
            ["SignatureVersion"] = "1.0",
        };

        Assert.Equal(
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26TimeStamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
            AliCloudRpcSignature.StringToSign("GET", parameters));
        Assert.Equal("CT9X0VtwR86fNWSnsc6v8YGOjuE=", AliCloudRpcSignature.Sign("GET", parameters, "testsecret"));
    }

    [Theory]
    [InlineData("a b", "a%20b")]
    [InlineData("a*b", "a%2Ab")]
    [InlineData("a+b", "a%2Bb")]
    [InlineData("A-z_0.9~", "A-z_0.9~")]
    [InlineData("acs:ram::1/role", "acs%3Aram%3A%3A1%2Frole")]
    [InlineData("é", "%C3%A9")]
    public void Percent_encoding_follows_AliClouds_rules(string value, string encoded) =>
        Assert.Equal(encoded, AliCloudRpcSignature.PercentEncode(value));

    private static readonly AliCloudCredentials Principal = new("LTAI5tPortalTestKey", "portal-test-secret-7Qz", null);

    private TofuRunRequest AliCloudRequest() => workspace.Request(provider: TofuProvider.AliCloud) with
    {
        Region = "cn-hangzhou",
        Role = new AssumedRole(RoleArn, ExternalId, "cogrion-acme-dev"),
    };

    private CloudTofuSessionSource Sessions(AliCloudCredentials? principal) => new(Client(principal));

    private CloudTofuSessionSource Sessions() => Sessions(Principal);

    private AliCloudStsClient Client(AliCloudCredentials? principal) => new(
        new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>(),
        new FixedPrincipal(principal),
        Microsoft.Extensions.Options.Options.Create(workspace.Options),
        TimeProvider.System,
        NullLogger<AliCloudStsClient>.Instance);

    private sealed class FixedPrincipal(AliCloudCredentials? credentials) : IAliCloudPrincipalCredentials
    {
        public AliCloudCredentials? Current() => credentials;
    }

    /// <summary>
    /// OpenTofu played from recordings (Recordings/): each command answers as the real one did, the
    /// plan leaves its file for apply, and every invocation is remembered with its environment.
    /// </summary>
    private sealed class RecordedTofu : ITofuCli
    {
        private readonly ConcurrentQueue<TofuInvocation> invocations = new();

        public IReadOnlyList<TofuInvocation> Invocations => invocations.ToList();

        public async IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            invocations.Enqueue(invocation);
            await Task.Yield();
            string[] lines = invocation.Arguments[0] switch
            {
                "version" => ["""{"terraform_version":"1.10.7","platform":"linux_amd64","provider_selections":{},"terraform_outdated":false}"""],
                "init" => ["", "OpenTofu has been successfully initialized!"],
                "plan" => Lines("plan.jsonl"),
                "show" => [Recording.Text("plan.json")],
                "apply" => Lines("apply.jsonl"),
                "output" => [Recording.Text("output.json")],
                var other => throw new InvalidOperationException($"No recording for tofu {other}."),
            };
            if (invocation.Arguments[0] == "plan")
                await File.WriteAllTextAsync(Path.Combine(invocation.WorkingDirectory, RootModuleWriter.PlanFile), "recorded plan",
                    cancellationToken);
            foreach (var line in lines) yield return new TofuOutputLine(line, FromStandardError: false);
            yield return new TofuExited(0, Interrupted: false, Killed: false);
        }

        private static string[] Lines(string recording) => Recording.Text(recording).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>An init that fails printing the credentials it was given, as a careless provider error might.</summary>
    private sealed class InitPrintsItsCredentials(ITofuCli inner) : ITofuCli
    {
        public async IAsyncEnumerable<TofuOutput> RunAsync(TofuInvocation invocation, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            if (invocation.Arguments[0] != "init")
            {
                await foreach (var output in inner.RunAsync(invocation, cancellationToken)) yield return output;
                yield break;
            }
            var e = invocation.Environment;
            yield return new TofuOutputLine($"Error: Failed to get OSS bucket with key {e["ALICLOUD_ACCESS_KEY"]} secret {e["ALICLOUD_SECRET_KEY"]}",
                FromStandardError: true);
            yield return new TofuOutputLine($"  security token {e["ALICLOUD_SECURITY_TOKEN"]} was refused", FromStandardError: true);
            yield return new TofuExited(1, Interrupted: false, Killed: false);
        }
    }
}
