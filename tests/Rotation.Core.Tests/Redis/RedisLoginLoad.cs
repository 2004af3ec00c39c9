using System.Diagnostics;
using Rotation.Core.Redis;
using Rotation.Core.Secrets;

namespace Rotation.Core.Tests.Redis;

/// <summary>
/// Simulated application clients: each loops logging in on a fresh connection (AUTH, PING, close) with whatever
/// credential the application currently holds, counting attempts and failures, for as long as the load runs.
/// Shared by the integration tests and bench/Rotation.Bench.Redis (linked source).
/// </summary>
public sealed class RedisLoginLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _attempts;
    private long _failures;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _errors = new();

    /// <param name="endpoints">Nodes the clients spread over.</param>
    /// <param name="credentialOf">The credential client i uses right now (read before every attempt).</param>
    public RedisLoginLoad(IReadOnlyList<RedisEndpoint> endpoints, int clients, Func<int, RotationCredential> credentialOf, RedisConnectionOptions? options = null)
    {
        for (var i = 0; i < clients; i++)
        {
            var id = i;
            _workers.Add(Task.Run(async () =>
            {
                var n = 0;
                while (!_stop.IsCancellationRequested)
                {
                    var endpoint = endpoints[(id + n++) % endpoints.Count];
                    Interlocked.Increment(ref _attempts);
                    try
                    {
                        await using var c = await RedisConnection.ConnectAsync(endpoint, credentialOf(id), options, CancellationToken.None).ConfigureAwait(false);
                        await c.PingAsync().ConfigureAwait(false);
                    }
                    catch (Rotation.Core.Errors.RotationException ex)
                    {
                        Interlocked.Increment(ref _failures);
                        if (_errors.Count < 5)
                        {
                            _errors.Enqueue($"{endpoint} {ex.ErrorId}");
                        }
                    }
                }
            }));
        }
    }

    public long Attempts => Interlocked.Read(ref _attempts);

    public long Failures => Interlocked.Read(ref _failures);

    public IReadOnlyCollection<string> SampleErrors => _errors.ToArray();

    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Waits until at least <paramref name="attempts"/> more attempts happened (the load is really running).</summary>
    public async Task WarmUpAsync(long attempts = 20)
    {
        var target = Attempts + attempts;
        var deadline = Stopwatch.StartNew();
        while (Attempts < target && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(10).ConfigureAwait(false);
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_workers).ConfigureAwait(false);
        _clock.Stop();
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
