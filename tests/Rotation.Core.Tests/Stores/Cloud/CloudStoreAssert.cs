using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>Assertions the three cloud stores share beyond the contract suite.</summary>
public static class CloudStoreAssert
{
    /// <summary>
    /// Many rounds of two writers racing for one secret's Pending lease. Backends without a conditional write for their
    /// labels (Vault custom_metadata, Key Vault tags) are only safe under every interleaving, so one round is not enough.
    /// </summary>
    public static async Task ExactlyOneWinsEachRoundAsync(Func<string, ISecretStore> open, Func<string> newSecret, int rounds)
    {
        for (var round = 0; round < rounds; round++)
        {
            var secret = newSecret();
            await open(secret).PutAsync(SecretValue.FromText($"base-{round}-value"), SecretStage.Current, new SecretWriteOptions());
            var racers = Enumerable.Range(0, 2).Select(i => (Store: open(secret), Run: $"run-{round}-{i}")).ToArray();
            using var go = new ManualResetEventSlim();
            var tasks = racers.Select(r => Task.Run(async () =>
            {
                go.Wait();
                try
                {
                    await r.Store.PutAsync(SecretValue.FromText($"{r.Run}-value"), SecretStage.Pending, new SecretWriteOptions { RunId = r.Run });
                    return (string?)null;
                }
                catch (RotationException e)
                {
                    return e.ErrorId;
                }
            })).ToArray();
            go.Set();
            var outcomes = await Task.WhenAll(tasks);
            Assert.True(outcomes.Count(o => o is null) == 1, $"round {round}: outcomes {string.Join(", ", outcomes.Select(o => o ?? "won"))}");
            Assert.All(outcomes.OfType<string>(), o => Assert.Contains(o, new[] { RotationErrorIds.StoreWriteConflict, RotationErrorIds.RotationInProgress }));
            var winner = racers[Array.IndexOf(outcomes, null)];
            var pending = await open(secret).GetAsync(SecretStage.Pending);
            Assert.Equal(winner.Run, pending.RunId);
            Assert.Equal($"{winner.Run}-value", pending.Value.Text);
        }
    }

    /// <summary>Undo to a Previous version an operator retired by hand (disabled, soft-deleted) makes it usable again.</summary>
    public static async Task UndoRevivesAHandRetiredVersionAsync(ISecretStore store, Action<string> retireByHand, Func<string, bool> isUsable)
    {
        var first = await store.PutAsync(SecretValue.FromText("one-value-1"), SecretStage.Current, new SecretWriteOptions());
        await store.PutAsync(SecretValue.FromText("two-value-2"), SecretStage.Current, new SecretWriteOptions());
        retireByHand(first.VersionId);
        Assert.False(isUsable(first.VersionId));
        Assert.Equal("one-value-1", (await store.UndoAsync()).Value.Text);
        Assert.True(isUsable(first.VersionId));
    }
}
