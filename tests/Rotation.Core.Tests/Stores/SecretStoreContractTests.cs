using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

/// <summary>
/// The one contract every <see cref="ISecretStore"/> keeps (ISecretStore's doc comment, DESIGN.md section 2), as
/// tests. A backend gets the whole suite by subclassing:
/// <code>
/// public sealed class MyStoreContractTests : SecretStoreContractTests
/// {
///     protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"my://{...}/{Guid.NewGuid():N}");
///     protected override ISecretStore Open(SecretStoreUri uri) => new MyStore(uri, context);
/// }
/// </code>
/// Rules for subclasses: <see cref="NewSecretUri"/> names a secret that does not exist yet (unique per call, so
/// tests run in parallel against one server); <see cref="Open"/> returns an independent client, as a second agent
/// would have (the concurrency test opens two). Tests that need a server read ROTATION_TEST_* variables and fail
/// when they are missing. Backend-specific rules (malformed documents, permissions, authentication) go in the
/// subclass as extra tests.
/// </summary>
public abstract class SecretStoreContractTests
{
    /// <summary>A fresh, uniquely named secret of this backend that does not exist yet, without a #field.</summary>
    protected abstract SecretStoreUri NewSecretUri();

    /// <summary>A new, independent client for <paramref name="uri"/> (no #field).</summary>
    protected abstract ISecretStore Open(SecretStoreUri uri);

    /// <summary>
    /// True when the backend labels a secret's first version Current whatever stage was asked for (AWS Secrets
    /// Manager attaches AWSCURRENT to the first version). The contract allows it: a brand-new secret has no old
    /// value a consumer could lose.
    /// </summary>
    protected virtual bool FirstVersionIsAlwaysCurrent => false;

    private readonly List<string> _values = [];
    private readonly List<(string Name, string Text)> _captured = [];

    protected ISecretStore OpenFresh() => Open(NewSecretUri());

    /// <summary>A new random value, remembered for the leak check.</summary>
    protected SecretValue NewValue()
    {
        var v = SecretGenerator.NewPassword(28);
        _values.Add(v);
        return SecretValue.FromText(v);
    }

    protected static string NewRunId() => "r-test-" + Guid.NewGuid().ToString("N")[..12];

    protected static SecretWriteOptions Run(string? runId, string? token = null) => new() { RunId = runId, ClientRequestToken = token };

    protected static string NewToken() => Guid.NewGuid().ToString();

    protected async Task<RotationException> Fails(string errorId, Func<Task> call)
    {
        var ex = await Assert.ThrowsAsync<RotationException>(call);
        _captured.Add(("exception " + ex.ErrorId, ex.Message + " " + ex.TargetName));
        Assert.Equal(errorId, ex.ErrorId);
        return ex;
    }

    protected static async Task AssertValue(ISecretStore store, SecretStage stage, SecretValue expected)
    {
        var got = await store.GetAsync(stage);
        Assert.True(expected.ValueEquals(got.Value), $"{stage} holds {got.Fingerprint}, expected {expected.Fingerprint}");
        Assert.Contains(stage, got.Stages);
    }

    protected static async Task<SecretVersionInfo?> Holder(ISecretStore store, SecretStage stage) =>
        (await store.DescribeAsync()).Versions.SingleOrDefault(v => v.Stages.Contains(stage));

    [Fact]
    public async Task Missing_secret_is_SecretNotFound_and_described_as_absent()
    {
        var store = OpenFresh();
        await Fails(RotationErrorIds.SecretNotFound, () => store.GetAsync(SecretStage.Current));
        await Fails(RotationErrorIds.SecretNotFound, () => store.CompleteAsync());
        await Fails(RotationErrorIds.SecretNotFound, () => store.UndoAsync());
        Assert.False((await store.DescribeAsync()).Exists);
        await store.CancelPendingAsync(); // idempotent: nothing to release
    }

    [Fact]
    public async Task Missing_stage_is_SecretStageNotFound()
    {
        var store = OpenFresh();
        await store.PutAsync(NewValue(), SecretStage.Current, Run(null));
        await Fails(RotationErrorIds.SecretStageNotFound, () => store.GetAsync(SecretStage.Pending));
        await Fails(RotationErrorIds.SecretStageNotFound, () => store.GetAsync(SecretStage.Previous));
    }

    [Fact]
    public async Task Previous_cannot_be_written()
    {
        var store = OpenFresh();
        await Fails(RotationErrorIds.InvalidArgument, () => store.PutAsync(NewValue(), SecretStage.Previous, Run(null)));
    }

    [Fact]
    public async Task Writing_current_twice_moves_the_old_value_to_previous()
    {
        var store = OpenFresh();
        var v1 = NewValue();
        var v2 = NewValue();
        var w1 = await store.PutAsync(v1, SecretStage.Current, Run(null));
        Assert.Equal([SecretStage.Current], w1.Stages);
        await store.PutAsync(v2, SecretStage.Current, Run(null));
        await AssertValue(store, SecretStage.Current, v2);
        await AssertValue(store, SecretStage.Previous, v1);
    }

    [Fact]
    public async Task Pending_write_creates_a_missing_secret_and_records_the_lease_holder()
    {
        var store = OpenFresh();
        var run = NewRunId();
        var v = NewValue();
        var written = await store.PutAsync(v, SecretStage.Pending, Run(run));
        Assert.Contains(SecretStage.Pending, written.Stages);
        Assert.Equal(run, written.RunId);
        await AssertValue(store, SecretStage.Pending, v);
        var description = await store.DescribeAsync();
        Assert.True(description.Exists);
        Assert.True(description.HasPending);
        Assert.Equal(run, description.PendingRunId);
        if (!FirstVersionIsAlwaysCurrent)
        {
            await Fails(RotationErrorIds.SecretStageNotFound, () => store.GetAsync(SecretStage.Current));
        }
        var completed = await store.CompleteAsync(written.VersionId);
        Assert.Equal(written.VersionId, completed.VersionId);
        await AssertValue(store, SecretStage.Current, v);
        Assert.False((await store.DescribeAsync()).HasPending);
    }

    [Fact]
    public async Task Complete_promotes_pending_and_the_old_current_becomes_previous()
    {
        var store = OpenFresh();
        var v1 = NewValue();
        var v2 = NewValue();
        var first = await store.PutAsync(v1, SecretStage.Current, Run(null));
        var pending = await store.PutAsync(v2, SecretStage.Pending, Run(NewRunId()));
        await AssertValue(store, SecretStage.Current, v1); // consumers keep reading the old value until Complete
        var completed = await store.CompleteAsync(pending.VersionId);
        Assert.Equal(pending.VersionId, completed.VersionId);
        Assert.Contains(SecretStage.Current, completed.Stages);
        Assert.True(v2.ValueEquals(completed.Value));
        await AssertValue(store, SecretStage.Current, v2);
        await AssertValue(store, SecretStage.Previous, v1);
        Assert.Equal(first.VersionId, (await Holder(store, SecretStage.Previous))!.VersionId);
        Assert.Null(await Holder(store, SecretStage.Pending));
    }

    [Fact]
    public async Task Complete_retried_after_success_returns_the_current_version()
    {
        var store = OpenFresh();
        await store.PutAsync(NewValue(), SecretStage.Current, Run(null));
        var pending = await store.PutAsync(NewValue(), SecretStage.Pending, Run(NewRunId()));
        await store.CompleteAsync(pending.VersionId);
        var again = await store.CompleteAsync(pending.VersionId);
        Assert.Equal(pending.VersionId, again.VersionId);
        Assert.Contains(SecretStage.Current, again.Stages);
        await Fails(RotationErrorIds.NoPendingVersion, () => store.CompleteAsync());
        await Fails(RotationErrorIds.NoPendingVersion, () => store.CompleteAsync("00000000-0000-0000-0000-000000000000"));
    }

    [Fact]
    public async Task Undo_swaps_current_and_previous_and_undoing_twice_restores()
    {
        var store = OpenFresh();
        var v1 = NewValue();
        var v2 = NewValue();
        await store.PutAsync(v1, SecretStage.Current, Run(null));
        await Fails(RotationErrorIds.NoPreviousVersion, () => store.UndoAsync());
        var pending = await store.PutAsync(v2, SecretStage.Pending, Run(NewRunId()));
        await store.CompleteAsync(pending.VersionId);

        var undone = await store.UndoAsync();
        Assert.True(v1.ValueEquals(undone.Value));
        await AssertValue(store, SecretStage.Current, v1);
        await AssertValue(store, SecretStage.Previous, v2);

        await store.UndoAsync();
        await AssertValue(store, SecretStage.Current, v2);
        await AssertValue(store, SecretStage.Previous, v1);
    }

    [Fact]
    public async Task A_retried_write_with_the_same_token_makes_no_second_version()
    {
        var store = OpenFresh();
        await store.PutAsync(NewValue(), SecretStage.Current, Run(null));
        var run = NewRunId();
        var token = NewToken();
        var v = NewValue();
        var first = await store.PutAsync(v, SecretStage.Pending, Run(run, token));
        var versionsAfterFirst = (await store.DescribeAsync()).Versions.Count;
        var retry = await store.PutAsync(v, SecretStage.Pending, Run(run, token));
        Assert.Equal(first.VersionId, retry.VersionId);
        Assert.Equal(versionsAfterFirst, (await store.DescribeAsync()).Versions.Count);

        // A retry after the run went on (the version was completed) still finds it and changes nothing.
        await store.CompleteAsync(first.VersionId);
        var late = await store.PutAsync(v, SecretStage.Pending, Run(run, token));
        Assert.Equal(first.VersionId, late.VersionId);
        Assert.Contains(SecretStage.Current, late.Stages);
        Assert.Null(await Holder(store, SecretStage.Pending));
        Assert.Equal(versionsAfterFirst, (await store.DescribeAsync()).Versions.Count);
    }

    [Fact]
    public async Task A_retried_current_write_with_the_same_token_makes_no_second_version()
    {
        var store = OpenFresh();
        var token = NewToken();
        var v = NewValue();
        var first = await store.PutAsync(v, SecretStage.Current, Run(null, token));
        var retry = await store.PutAsync(v, SecretStage.Current, Run(null, token));
        Assert.Equal(first.VersionId, retry.VersionId);
        Assert.Single((await store.DescribeAsync()).Versions);
        await Fails(RotationErrorIds.SecretStageNotFound, () => store.GetAsync(SecretStage.Previous));
    }

    [Fact]
    public async Task A_pending_value_is_a_lease_that_names_its_run()
    {
        var store = OpenFresh();
        var current = NewValue();
        await store.PutAsync(current, SecretStage.Current, Run(null));
        var holder = NewRunId();
        await store.PutAsync(NewValue(), SecretStage.Pending, Run(holder));

        var other = Open(store.Uri);
        var refused = await Fails(RotationErrorIds.RotationInProgress, () => other.PutAsync(NewValue(), SecretStage.Pending, Run(NewRunId())));
        Assert.Contains(holder, refused.Message);
        Assert.Equal(store.Uri.Original, refused.TargetName);
        var refusedCurrent = await Fails(RotationErrorIds.RotationInProgress, () => other.PutAsync(NewValue(), SecretStage.Current, Run(null)));
        Assert.Contains(holder, refusedCurrent.Message);
        await Fails(RotationErrorIds.RotationInProgress, () => other.PutAsync(NewValue(), SecretStage.Pending, Run(null)));
        await AssertValue(store, SecretStage.Current, current);
        Assert.Equal(holder, (await store.DescribeAsync()).PendingRunId);
    }

    [Fact]
    public async Task The_same_run_replaces_its_own_pending_value()
    {
        var store = OpenFresh();
        await store.PutAsync(NewValue(), SecretStage.Current, Run(null));
        var run = NewRunId();
        await store.PutAsync(NewValue(), SecretStage.Pending, Run(run));
        var replacement = NewValue();
        var second = await store.PutAsync(replacement, SecretStage.Pending, Run(run));
        await AssertValue(store, SecretStage.Pending, replacement);
        Assert.Equal(second.VersionId, (await Holder(store, SecretStage.Pending))!.VersionId);
        Assert.Equal(run, (await store.DescribeAsync()).PendingRunId);
    }

    [Fact]
    public async Task CancelPending_releases_the_lease_only_for_its_holder_and_is_idempotent()
    {
        var store = OpenFresh();
        var current = NewValue();
        await store.PutAsync(current, SecretStage.Current, Run(null));
        var holder = NewRunId();
        await store.PutAsync(NewValue(), SecretStage.Pending, Run(holder));

        await store.CancelPendingAsync(NewRunId()); // not the holder: nothing happens
        Assert.Equal(holder, (await store.DescribeAsync()).PendingRunId);

        await store.CancelPendingAsync(holder);
        Assert.False((await store.DescribeAsync()).HasPending);
        await Fails(RotationErrorIds.SecretStageNotFound, () => store.GetAsync(SecretStage.Pending));
        await AssertValue(store, SecretStage.Current, current);
        await store.CancelPendingAsync(holder);

        var next = NewRunId();
        await store.PutAsync(NewValue(), SecretStage.Pending, Run(next));
        Assert.Equal(next, (await store.DescribeAsync()).PendingRunId);
        await store.CancelPendingAsync(); // without a run id: whoever holds it
        Assert.False((await store.DescribeAsync()).HasPending);
    }

    [Fact]
    public async Task Of_two_concurrent_writers_exactly_one_wins()
    {
        var uri = NewSecretUri();
        await Open(uri).PutAsync(NewValue(), SecretStage.Current, Run(null));
        var a = Open(uri);
        var b = Open(uri);
        var runA = NewRunId();
        var runB = NewRunId();
        var valueA = NewValue();
        var valueB = NewValue();
        using var start = new ManualResetEventSlim();
        var results = await Task.WhenAll(
            Task.Run(async () => { start.Wait(); return await Attempt(a, valueA, runA); }),
            Task.Run(async () => { start.Wait(); return await Attempt(b, valueB, runB); }),
            Task.Run(() => { start.Set(); return (RotationException?)null; }));
        var failures = results.Take(2).Where(r => r is not null).ToList();
        Assert.Single(failures);
        Assert.Contains(failures[0]!.ErrorId, new[] { RotationErrorIds.RotationInProgress, RotationErrorIds.StoreWriteConflict });

        var winnerRun = results[0] is null ? runA : runB;
        var winnerValue = results[0] is null ? valueA : valueB;
        Assert.Equal(winnerRun, (await Open(uri).DescribeAsync()).PendingRunId);
        await AssertValue(Open(uri), SecretStage.Pending, winnerValue);
        Assert.Single((await Open(uri).DescribeAsync()).Versions, v => v.Stages.Contains(SecretStage.Pending));

        async Task<RotationException?> Attempt(ISecretStore store, SecretValue value, string run)
        {
            try
            {
                await store.PutAsync(value, SecretStage.Pending, Run(run));
                return null;
            }
            catch (RotationException ex)
            {
                lock (_captured)
                {
                    _captured.Add(("concurrent loser", ex.Message));
                }
                return ex;
            }
        }
    }

    [Fact]
    public async Task A_field_write_keeps_the_other_fields()
    {
        var uri = NewSecretUri();
        var store = Open(uri);
        var password = NewValue().Text;
        await store.PutAsync(SecretValue.FromFields(new Dictionary<string, string> { ["username"] = "app", ["password"] = password }), SecretStage.Current, Run(null));

        var field = new FieldScopedStore(SecretStoreUri.Parse(uri.Original + "#password"), Open(uri));
        var newPassword = NewValue();
        var run = NewRunId();
        var written = await field.PutAsync(newPassword, SecretStage.Pending, Run(run));
        Assert.True(newPassword.ValueEquals(written.Value));
        await AssertValue(field, SecretStage.Pending, newPassword);
        await field.CompleteAsync(written.VersionId);

        var whole = (await store.GetAsync(SecretStage.Current)).Value.AsFields(uri.Original);
        Assert.Equal("app", whole["username"]);
        Assert.Equal(newPassword.Text, whole["password"]);
        var previous = (await store.GetAsync(SecretStage.Previous)).Value.AsFields(uri.Original);
        Assert.Equal(password, previous["password"]);

        var user = new FieldScopedStore(SecretStoreUri.Parse(uri.Original + "#username"), Open(uri));
        Assert.Equal("app", (await user.GetAsync(SecretStage.Current)).Value.Text);
        await Fails(RotationErrorIds.SecretFieldNotFound, () => new FieldScopedStore(SecretStoreUri.Parse(uri.Original + "#nope"), Open(uri)).GetAsync(SecretStage.Current));
    }

    [Fact]
    public async Task A_field_of_a_value_that_is_not_a_field_map_is_a_clear_error_and_changes_nothing()
    {
        var uri = NewSecretUri();
        var store = Open(uri);
        var plain = NewValue();
        await store.PutAsync(plain, SecretStage.Current, Run(null));
        var field = new FieldScopedStore(SecretStoreUri.Parse(uri.Original + "#password"), Open(uri));
        await Fails(RotationErrorIds.SecretShapeInvalid, () => field.GetAsync(SecretStage.Current));
        await Fails(RotationErrorIds.SecretShapeInvalid, () => field.PutAsync(NewValue(), SecretStage.Current, Run(null)));
        await AssertValue(store, SecretStage.Current, plain);
        Assert.Single((await store.DescribeAsync()).Versions);
    }

    [Fact]
    public async Task Field_maps_round_trip_as_field_maps()
    {
        var store = OpenFresh();
        var map = new Dictionary<string, string> { ["a"] = NewValue().Text, ["b"] = "with \"quotes\" and ünïcode" };
        await store.PutAsync(SecretValue.FromFields(map), SecretStage.Current, Run(null));
        var read = (await store.GetAsync(SecretStage.Current)).Value.AsFields(store.Uri.Original);
        Assert.Equal(map.OrderBy(p => p.Key), read.OrderBy(p => p.Key));
    }

    [Fact]
    public async Task Nothing_the_store_says_contains_a_value()
    {
        var store = OpenFresh();
        var run = NewRunId();
        var said = new List<(string, string)>();
        var w1 = await store.PutAsync(NewValue(), SecretStage.Current, Run(null));
        var w2 = await store.PutAsync(NewValue(), SecretStage.Pending, Run(run, NewToken()));
        said.Add(("put results", $"{w1} {w1.Value} {w1.Fingerprint} {w2} {w2.Value}"));
        await Fails(RotationErrorIds.RotationInProgress, () => Open(store.Uri).PutAsync(NewValue(), SecretStage.Pending, Run(NewRunId())));
        await Fails(RotationErrorIds.StoreWriteConflict, () => store.CompleteAsync("11111111-1111-1111-1111-111111111111"));
        var completed = await store.CompleteAsync(w2.VersionId);
        said.Add(("complete result", $"{completed} {completed.Value}"));
        var description = await store.DescribeAsync();
        said.AddRange(description.Versions.Select(v => ("description", $"{v.VersionId} {v.Fingerprint} {v.RunId} {string.Join(",", v.Stages)}")));
        await Fails(RotationErrorIds.SecretShapeInvalid, () => new FieldScopedStore(SecretStoreUri.Parse(store.Uri.Original + "#x"), Open(store.Uri)).GetAsync(SecretStage.Current));
        LeakAssert.NoneOf(_values, _captured.Concat(said).Concat(CapturedByBackend()));
        Assert.NotEmpty(_captured);
    }

    /// <summary>Text the backend itself captured (a request log, a file) for the leak check; values may legitimately
    /// sit in the store, so only include what is not the store's own data.</summary>
    protected virtual IEnumerable<(string Name, string Text)> CapturedByBackend() => [];
}
