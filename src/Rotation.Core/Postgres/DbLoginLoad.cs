using System.Collections.Concurrent;
using System.Diagnostics;
using Rotation.Core.Secrets;

namespace Rotation.Core.Postgres;

/// <summary>
/// Clients that log in over and over with fresh unpooled connections, each attempt reading the credential anew
/// (from the store, as an application re-reading its secret would). The zero-failed-logins proof and the benchmark
/// both measure with it. Not part of the cmdlet surface.
/// </summary>
internal sealed class DbLoginLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _clients = [];
    private long _attempts;
    private long _failures;

    public DbLoginLoad(DbConnectionOptions target, Func<CancellationToken, Task<RotationCredential>> currentCredential, int clients)
    {
        for (var i = 0; i < clients; i++)
        {
            _clients.Add(Task.Run(() => LoopAsync(target, currentCredential)));
        }
    }

    public Stopwatch Elapsed { get; } = Stopwatch.StartNew();

    public long Attempts => Interlocked.Read(ref _attempts);

    public long Failures => Interlocked.Read(ref _failures);

    /// <summary>Failure reasons with the user that failed (never a password).</summary>
    public ConcurrentQueue<string> FailureReasons { get; } = new();

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_clients).ConfigureAwait(false);
        Elapsed.Stop();
    }

    /// <summary>Waits until at least <paramref name="attempts"/> logins were made (or the time runs out).</summary>
    public async Task WaitForAttemptsAsync(long attempts, TimeSpan max)
    {
        var deadline = Stopwatch.StartNew();
        while (Attempts < attempts && deadline.Elapsed < max)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    private async Task LoopAsync(DbConnectionOptions target, Func<CancellationToken, Task<RotationCredential>> currentCredential)
    {
        while (!_stop.IsCancellationRequested)
        {
            RotationCredential login;
            try
            {
                login = await currentCredential(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Errors.RotationException or IOException)
            {
                Interlocked.Increment(ref _attempts);
                Interlocked.Increment(ref _failures);
                FailureReasons.Enqueue("reading the credential: " + ex.Message);
                continue;
            }
            var (outcome, error) = await PgCatalog.TryLoginAsync(target, login, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _attempts);
            if (outcome != DbLoginOutcome.Succeeded)
            {
                Interlocked.Increment(ref _failures);
                FailureReasons.Enqueue($"{login.UserName}: {outcome} {error?.ErrorId}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
