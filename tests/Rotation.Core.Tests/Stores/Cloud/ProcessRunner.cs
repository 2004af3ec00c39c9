using System.Diagnostics;

namespace Rotation.Core.Tests.Stores.Cloud;

/// <summary>Runs a real client (gcloud) with its own environment and captures its output as bytes.</summary>
public static class ProcessRunner
{
    public static async Task<(int ExitCode, byte[] Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment)
        {
            psi.Environment[k] = v;
        }
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}.");
        }
        await copy;
        return (process.ExitCode, stdout.ToArray(), await stderr);
    }
}
