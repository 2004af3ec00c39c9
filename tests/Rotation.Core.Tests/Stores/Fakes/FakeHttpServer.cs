using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Rotation.Core.Tests.Stores.Fakes;

/// <summary>A fault the fake answers instead of the real handler: status, body, headers, for the next N matching requests.</summary>
public sealed class FakeFault
{
    public required Func<HttpRequest, bool> Match { get; init; }
    public required int Status { get; init; }
    public string Body { get; init; } = "{}";
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
    public int Times { get; set; } = 1;
}

/// <summary>
/// An in-process Kestrel server on an OS-chosen loopback port (HTTP, or HTTPS with a test certificate) that hands
/// every request to one handler, after the injected faults. Each test starts its own: no shared state.
/// </summary>
public sealed class FakeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<FakeFault> _faults = [];

    private FakeHttpServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    /// <summary>Every request as "METHOD path?query", in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static async Task<FakeHttpServer> StartAsync(Func<HttpContext, Task> handler, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }
        }));
        var app = builder.Build();
        FakeHttpServer? server = null;
        app.Run(async context =>
        {
            server!.Requests.Enqueue($"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}");
            if (server.TakeFault(context.Request) is { } fault)
            {
                context.Response.StatusCode = fault.Status;
                foreach (var (k, v) in fault.Headers)
                {
                    context.Response.Headers[k] = v;
                }
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(fault.Body);
                return;
            }
            await handler(context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new FakeHttpServer(app, new Uri(address.EndsWith('/') ? address : address + "/"));
        return server;
    }

    public void Inject(FakeFault fault)
    {
        lock (_faults)
        {
            _faults.Add(fault);
        }
    }

    private FakeFault? TakeFault(HttpRequest request)
    {
        lock (_faults)
        {
            var f = _faults.FirstOrDefault(x => x.Times > 0 && x.Match(request));
            if (f is not null)
            {
                f.Times--;
            }
            return f;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
