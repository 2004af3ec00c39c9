using System.Text.Json.Nodes;
using Rotation.Core.Errors;
using Rotation.Core.Secrets;
using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

/// <summary>The shared contract against the file store: every secret in one document per test class instance.</summary>
public sealed class FileSecretStoreContractTests : SecretStoreContractTests, IDisposable
{
    private readonly TempDirectory _dir = TestEnvironment.NewTempDirectory();

    protected override SecretStoreUri NewSecretUri() => SecretStoreUri.Parse($"file://{_dir.File("store.json")}#s-{Guid.NewGuid():N}");

    protected override ISecretStore Open(SecretStoreUri uri) => new FileSecretStore(uri, StoreContext.Default);

    public void Dispose() => _dir.Dispose();
}

/// <summary>What only the file store promises: the document format, atomic replace, modes, locks, bad files.</summary>
public sealed class FileSecretStoreTests : IDisposable
{
    private readonly TempDirectory _dir = TestEnvironment.NewTempDirectory();

    public void Dispose() => _dir.Dispose();

    private FileSecretStore Store(string path, string name = "db") => new(SecretStoreUri.Parse($"file://{path}#{name}"), StoreContext.Default);

    private static readonly SecretWriteOptions NoRun = new();

    [Fact]
    public void The_registry_opens_file_URIs_and_wraps_fields()
    {
        var registry = SecretStoreRegistry.CreateDefault();
        Assert.Contains(SecretStoreUri.File, registry.Schemes);
        Assert.IsType<FileSecretStore>(registry.Open($"file://{_dir.File("s.json")}#db"));
        Assert.IsType<FieldScopedStore>(registry.Open($"file://{_dir.File("s.json")}#db#password"));
    }

    [Fact]
    public async Task Many_secrets_share_one_document_and_keep_their_own_versions()
    {
        var path = _dir.File("many.json");
        await Store(path, "a").PutAsync(SecretValue.FromText("value-of-a-1"), SecretStage.Current, NoRun);
        await Store(path, "b").PutAsync(SecretValue.FromText("value-of-b-1"), SecretStage.Current, NoRun);
        await Store(path, "a").PutAsync(SecretValue.FromText("value-of-a-2"), SecretStage.Current, NoRun);
        Assert.Equal("value-of-b-1", (await Store(path, "b").GetAsync(SecretStage.Current)).Value.Text);
        Assert.Equal("value-of-a-1", (await Store(path, "a").GetAsync(SecretStage.Previous)).Value.Text);

        var doc = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal(1, doc["format"]!.GetValue<int>());
        Assert.Equal(3, doc["revision"]!.GetValue<long>());
        Assert.Equal(2, doc["secrets"]!["a"]!["versions"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_file_is_private_and_a_created_folder_is_too()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix modes only; Windows relies on the folder's ACL.
        }
        var path = Path.Combine(_dir.Path, "new-folder", "s.json");
        await Store(path).PutAsync(SecretValue.FromText("private-value-1"), SecretStage.Current, NoRun);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(path)!));
        // No temp file is left behind by the atomic replace.
        Assert.Equal(["s.json", "s.json.lock"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(f => Path.GetFileName(f)).Order().ToArray());
    }

    [Theory]
    [InlineData("{ this is not json")]
    [InlineData("[]")]
    [InlineData("{\"format\":1,\"revision\":1,\"secrets\":{\"db\":{\"versions\":[{\"id\":\"x\",\"value\":42,\"stages\":[]}]}}}")]
    [InlineData("{\"format\":9,\"revision\":1,\"secrets\":{}}")]
    [InlineData("{\"format\":1,\"revision\":1,\"secrets\":{\"db\":{\"versions\":[{\"id\":\"x\",\"value\":\"a\",\"stages\":[\"Current\"]},{\"id\":\"y\",\"value\":\"b\",\"stages\":[\"Current\"]}]}}}")]
    public async Task A_malformed_document_is_StoreDocumentMalformed_and_is_never_overwritten(string content)
    {
        var path = _dir.File("bad.json");
        await File.WriteAllTextAsync(path, content);
        var store = Store(path);
        var read = await Assert.ThrowsAsync<RotationException>(() => store.GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.StoreDocumentMalformed, read.ErrorId);
        Assert.Equal(store.Uri.Original, read.TargetName);
        var write = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("never-written-1"), SecretStage.Current, NoRun));
        Assert.Equal(RotationErrorIds.StoreDocumentMalformed, write.ErrorId);
        Assert.Equal(content, await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task A_malformed_document_error_does_not_quote_the_document()
    {
        var path = _dir.File("bad.json");
        const string secretish = "SuperSecretValue123";
        await File.WriteAllTextAsync(path, "{\"format\":1,\"secrets\":{\"db\":{\"versions\":[{\"id\":\"x\",\"value\":\"" + secretish + "\",\"stages\":[\"Current\"]}," + secretish + "]}}}");
        var ex = await Assert.ThrowsAsync<RotationException>(() => Store(path).GetAsync(SecretStage.Current));
        LeakAssert.NoneOf([secretish], [("message", ex.Message)]);
    }

    [Fact]
    public async Task An_unwritable_path_is_StorePathNotWritable()
    {
        // A folder below a regular file can never be created, even by root (which ignores permission bits).
        var blocker = _dir.File("a-file");
        await File.WriteAllTextAsync(blocker, "x");
        var store = Store(Path.Combine(blocker, "sub", "s.json"));
        var ex = await Assert.ThrowsAsync<RotationException>(() => store.PutAsync(SecretValue.FromText("never-written-1"), SecretStage.Current, NoRun));
        Assert.Equal(RotationErrorIds.StorePathNotWritable, ex.ErrorId);
        Assert.Contains("cannot be written", ex.Message);
        Assert.Equal("x", await File.ReadAllTextAsync(blocker));
    }

    [Fact]
    public async Task A_missing_file_is_SecretNotFound()
    {
        var ex = await Assert.ThrowsAsync<RotationException>(() => Store(_dir.File("absent.json")).GetAsync(SecretStage.Current));
        Assert.Equal(RotationErrorIds.SecretNotFound, ex.ErrorId);
        Assert.False(File.Exists(_dir.File("absent.json")));
    }

    [Fact]
    public async Task Old_unlabelled_versions_are_bounded()
    {
        var store = Store(_dir.File("bounded.json"));
        for (var i = 0; i < FileSecretStore.MaxUnlabelledVersions + 6; i++)
        {
            await store.PutAsync(SecretValue.FromText($"value-number-{i}"), SecretStage.Current, NoRun);
        }
        var versions = (await store.DescribeAsync()).Versions;
        Assert.Equal(FileSecretStore.MaxUnlabelledVersions + 2, versions.Count);
        Assert.Equal(FileSecretStore.MaxUnlabelledVersions, versions.Count(v => v.Stages.Count == 0));
    }

    [Fact]
    public async Task Concurrent_writers_on_one_file_lose_no_update()
    {
        var path = _dir.File("busy.json");
        // Twenty independent clients, each writing its own secret in the same document at once: the lock file
        // serialises read-modify-write, so every secret survives.
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            Store(path, $"s{i}").PutAsync(SecretValue.FromText($"value-of-{i}"), SecretStage.Current, NoRun))));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal($"value-of-{i}", (await Store(path, $"s{i}").GetAsync(SecretStage.Current)).Value.Text);
        }
        var doc = JsonNode.Parse(await File.ReadAllTextAsync(path))!;
        Assert.Equal(20, doc["revision"]!.GetValue<long>());
    }

    [Fact]
    public async Task Another_process_holding_the_lock_file_makes_a_writer_wait()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // flock is the Unix mechanism; Windows uses share-none handles, covered in-process above.
        }
        var path = _dir.File("shared.json");
        await Store(path).PutAsync(SecretValue.FromText("before-value-1"), SecretStage.Current, NoRun);
        // A second process (python, flock like .NET's FileShare.None on Unix) takes the lock for 1.5 s.
        var psi = new System.Diagnostics.ProcessStartInfo("python3") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('locked', flush=True)\ntime.sleep(1.5)\n");
        psi.ArgumentList.Add(path + ".lock");
        using var holder = System.Diagnostics.Process.Start(psi)!;
        Assert.Equal("locked", await holder.StandardOutput.ReadLineAsync());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Store(path).PutAsync(SecretValue.FromText("after-value-2"), SecretStage.Current, NoRun);
        watch.Stop();
        await holder.WaitForExitAsync();
        Assert.True(watch.Elapsed > TimeSpan.FromSeconds(1), $"the write took {watch.Elapsed.TotalSeconds:0.00} s: it did not wait for the other process's lock");
        Assert.Equal("after-value-2", (await Store(path).GetAsync(SecretStage.Current)).Value.Text);
        Assert.Equal("before-value-1", (await Store(path).GetAsync(SecretStage.Previous)).Value.Text);
    }

    [Fact]
    public async Task A_token_reused_for_a_different_value_is_refused()
    {
        var store = Store(_dir.File("token.json"));
        var token = Guid.NewGuid().ToString();
        await store.PutAsync(SecretValue.FromText("first-value-1"), SecretStage.Current, new SecretWriteOptions { ClientRequestToken = token });
        var ex = await Assert.ThrowsAsync<RotationException>(() =>
            store.PutAsync(SecretValue.FromText("other-value-2"), SecretStage.Current, new SecretWriteOptions { ClientRequestToken = token }));
        Assert.Equal(RotationErrorIds.StoreWriteConflict, ex.ErrorId);
        Assert.Equal("first-value-1", (await store.GetAsync(SecretStage.Current)).Value.Text);
    }
}
