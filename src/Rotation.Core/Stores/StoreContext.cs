namespace Rotation.Core.Stores;

/// <summary>
/// What a store needs from its surroundings, passed in rather than read from statics so tests stay parallel-safe:
/// environment, clock, an HTTP handler (tests point clients at loopback fakes), an endpoint override.
/// </summary>
public sealed class StoreContext
{
    public static StoreContext Default { get; } = new();

    /// <summary>Reads an environment variable. Tests substitute a dictionary.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>When set, HTTP clients of stores send through this handler (custom TLS validation, fakes).</summary>
    public Func<HttpMessageHandler>? HttpHandlerFactory { get; init; }

    /// <summary>An explicit endpoint (the -Endpoint parameter). Overrides environment endpoint variables.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Per-request timeout for remote stores.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries for throttling and 5xx (only for requests that are safe to repeat).</summary>
    public int MaxRetries { get; init; } = 4;

    /// <summary>This context with another HTTP handler (a store that trusts a private certificate authority).</summary>
    public StoreContext WithHandler(Func<HttpMessageHandler> handlerFactory) => new()
    {
        GetEnvironmentVariable = GetEnvironmentVariable,
        Clock = Clock,
        HttpHandlerFactory = handlerFactory,
        Endpoint = Endpoint,
        RequestTimeout = RequestTimeout,
        MaxRetries = MaxRetries,
    };

    /// <summary>This context with an explicit endpoint (-Endpoint); the same context when none is given.</summary>
    public StoreContext WithEndpoint(string? endpoint) => string.IsNullOrWhiteSpace(endpoint)
        ? this
        : new StoreContext
        {
            GetEnvironmentVariable = GetEnvironmentVariable,
            Clock = Clock,
            HttpHandlerFactory = HttpHandlerFactory,
            Endpoint = endpoint,
            RequestTimeout = RequestTimeout,
            MaxRetries = MaxRetries,
        };
}
