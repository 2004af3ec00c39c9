using System.Text.Json;
using Rotation.Core.Audit;
using Rotation.Core.Errors;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Audit;

public sealed class JsonlAuditLogTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    internal static RotationAuditRecord Record(string evt = "step.done", string target = "app@db", string? runId = "r-1", DateTimeOffset? at = null, string? error = null) => new()
    {
        Timestamp = at ?? T0,
        Event = evt,
        Target = target,
        CredentialType = "postgresql-password",
        PerformedBy = "ops",
        Reason = AuditReason.Rollback,
        Success = error is null,
        DowntimeSeconds = 1.5,
        RollbackRequired = error is not null,
        RunId = runId,
        Step = "switch",
        Fingerprint = "sha256:0011aabb",
        Error = error,
    };

    [Fact]
    public void Each_record_is_one_snake_case_json_line_in_an_owner_only_file()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var log = new JsonlAuditLog(dir.File("deep/er/audit.jsonl"));

        log.Write(Record());
        log.Write(Record(evt: "step.failed", error: "line one\nline two, \"quoted\""));

        var lines = File.ReadAllText(log.Path).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal("", lines[2]);
        using var doc = JsonDocument.Parse(lines[0]);
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["timestamp", "event", "credential_type", "target", "performed_by", "reason", "success", "downtime_seconds",
            "rollback_required", "run_id", "step", "fingerprint", "error"], names);
        Assert.Equal("rollback", doc.RootElement.GetProperty("reason").GetString());
        var back = AuditLogReader.Read(log.Path).ToList();
        Assert.Equal("line one\nline two, \"quoted\"", back[1].Error);
        Assert.Equal((T0, 1.5, true), (back[1].Timestamp, back[1].DowntimeSeconds!.Value, back[1].RollbackRequired));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log.Path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir.File("deep/er")));
        }
    }

    [Fact]
    public void Many_parallel_writers_lose_and_interleave_nothing()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        const int writers = 16;
        const int perWriter = 150;
        // Each writer has its own log object, so each write opens its own descriptor, as a separate process does:
        // what keeps lines whole is O_APPEND in the kernel, not a lock in this process.
        var padding = new string('x', 3000);

        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, w =>
        {
            var log = new JsonlAuditLog(dir.File("audit.jsonl"));
            for (var i = 0; i < perWriter; i++)
            {
                log.Write(Record(runId: $"r-{w}-{i}", error: padding));
            }
        });

        var records = AuditLogReader.Read(dir.File("audit.jsonl")).ToList();
        Assert.Equal(writers * perWriter, records.Count);
        Assert.Equal(writers * perWriter, records.Select(r => r.RunId).Distinct().Count());
        Assert.All(records, r => Assert.Equal(padding, r.Error));
    }

    [Fact]
    public async Task Writers_in_other_processes_appending_at_the_same_time_lose_nothing()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        using var dir = TestEnvironment.NewTempDirectory();
        var path = dir.File("audit.jsonl");
        const int processes = 3;
        const int perProcess = 300;
        // Each shell writes its lines with >> (O_APPEND), one write per line, like another Rotation process would.
        var script = "i=0; while [ $i -lt " + perProcess + " ]; do " +
            "printf '%s\\n' \"{\\\"timestamp\\\":\\\"2026-11-21T10:00:00+00:00\\\",\\\"event\\\":\\\"shell\\\",\\\"target\\\":\\\"sh\\\",\\\"run_id\\\":\\\"s-$1-$i\\\"}\" >> \"$2\"; " +
            "i=$((i+1)); done";
        var shells = Enumerable.Range(0, processes).Select(p => System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", script, "sh", p.ToString(System.Globalization.CultureInfo.InvariantCulture), path]))!).ToList();
        var ours = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            var log = new JsonlAuditLog(path);
            for (var i = 0; i < perProcess; i++)
            {
                log.Write(Record(runId: $"r-{w}-{i}", error: new string('y', 500)));
            }
        })).ToList();
        await Task.WhenAll(ours);
        foreach (var shell in shells)
        {
            await shell.WaitForExitAsync();
            Assert.Equal(0, shell.ExitCode);
            shell.Dispose();
        }

        var records = AuditLogReader.Read(path).ToList();
        Assert.Equal(processes * perProcess, records.Count(r => r.Event == "shell"));
        Assert.Equal(4 * perProcess, records.Count(r => r.Event == "step.done"));
        Assert.Equal(records.Count, records.Select(r => r.RunId).Distinct().Count());
    }

    [Fact]
    public void An_unwritable_location_is_AuditWriteFailed()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        File.WriteAllText(dir.File("file"), "x");

        var underFile = Assert.Throws<RotationException>(() => new JsonlAuditLog(Path.Combine(dir.File("file"), "audit.jsonl")).Write(Record()));
        var isFolder = Assert.Throws<RotationException>(() => new JsonlAuditLog(dir.Path).Write(Record()));

        Assert.Equal(RotationErrorIds.AuditWriteFailed, underFile.ErrorId);
        Assert.Equal((RotationErrorIds.AuditWriteFailed, dir.Path), (isFolder.ErrorId, isFolder.TargetName));
        Assert.Contains(RotationErrorIds.AuditWriteFailed, underFile.ErrorId, StringComparison.Ordinal);
    }
}

public sealed class AuditLogReaderTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-21T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private static string Seed(TempDirectory dir)
    {
        var log = new JsonlAuditLog(dir.File("audit.jsonl"));
        log.Write(JsonlAuditLogTests.Record("run.started", "app@db-1", "r-1", T0));
        log.Write(JsonlAuditLogTests.Record("step.done", "app@db-1", "r-1", T0.AddMinutes(1)));
        log.Write(JsonlAuditLogTests.Record("step.failed", "redis://cache", "r-2", T0.AddMinutes(2), "nope"));
        log.Write(JsonlAuditLogTests.Record("run.failed", "redis://cache", "r-2", T0.AddMinutes(3), "nope"));
        return log.Path;
    }

    [Fact]
    public void Filters_combine_and_wildcards_match_case_insensitively()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var path = Seed(dir);

        Assert.Equal(4, AuditLogReader.Read(path).Count());
        Assert.Equal(["step.done", "step.failed"], AuditLogReader.Read(path, new() { Since = T0.AddMinutes(1), Until = T0.AddMinutes(2) }).Select(r => r.Event));
        Assert.Equal(["run.started", "step.done"], AuditLogReader.Read(path, new() { Target = "APP@*" }).Select(r => r.Event));
        Assert.Equal(["step.done", "step.failed"], AuditLogReader.Read(path, new() { Event = "step.*" }).Select(r => r.Event));
        Assert.Equal(["run.failed"], AuditLogReader.Read(path, new() { RunId = "r-2", Event = "run.*" }).Select(r => r.Event));
        Assert.Empty(AuditLogReader.Read(path, new() { RunId = "R-2" }));
        Assert.Equal(2, AuditLogReader.Read(path, new() { Target = "redis://cach?" }).Count());
        Assert.Equal(2, AuditLogReader.Read(path, new() { Target = "app@db-[0-9]" }).Count());
        Assert.Empty(AuditLogReader.Read(dir.File("missing.jsonl")));
    }

    [Fact]
    public void A_malformed_line_is_an_error_naming_its_line_unless_skipped_with_a_warning()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var path = Seed(dir);
        var lines = File.ReadAllLines(path).ToList();
        lines.Insert(2, "{\"event\": \"half");
        File.WriteAllText(path, string.Join("\n", lines) + "\n");

        var ex = Assert.Throws<RotationException>(() => AuditLogReader.Read(path).ToList());
        Assert.Equal((RotationErrorIds.AuditLogMalformed, path), (ex.ErrorId, ex.TargetName));
        Assert.Contains("Line 3", ex.Message, StringComparison.Ordinal);

        var log = new Runs.CapturingLog();
        Assert.Equal(4, AuditLogReader.Read(path, skipMalformed: true, log: log).Count());
        Assert.Contains(log.Warnings, w => w.Contains("line 3", StringComparison.Ordinal));
    }

    [Fact]
    public void A_byte_order_mark_and_crlf_line_ends_are_accepted()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var path = Seed(dir);
        var lines = File.ReadAllLines(path);
        File.WriteAllText(path, string.Join("\r\n", lines) + "\r\n", new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));

        Assert.Equal(["run.started", "step.done", "step.failed", "run.failed"], AuditLogReader.Read(path).Select(r => r.Event));
    }

    [Fact]
    public void A_last_line_without_its_newline_is_skipped_with_a_warning()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var path = Seed(dir);
        File.AppendAllText(path, "{\"timestamp\":\"2026-");
        var log = new Runs.CapturingLog();

        Assert.Equal(4, AuditLogReader.Read(path, log: log).Count());
        Assert.Contains(log.Warnings, w => w.Contains("line 5", StringComparison.Ordinal));
    }

    [Fact]
    public void Export_writes_a_json_array_or_rfc4180_csv_and_refuses_to_overwrite_without_force()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var records = new[] { JsonlAuditLogTests.Record(error: "a, \"b\"\r\nc"), JsonlAuditLogTests.Record("run.done", "x") };

        var result = AuditLogExport.Export(records, dir.File("out.json"), null, force: false);
        Assert.Equal((dir.File("out.json"), AuditExportFormat.Json, 2), (result.Path, result.Format, result.Count));
        using (var doc = JsonDocument.Parse(File.ReadAllText(dir.File("out.json"))))
        {
            Assert.Equal(2, doc.RootElement.GetArrayLength());
            Assert.Equal("a, \"b\"\r\nc", doc.RootElement[0].GetProperty("error").GetString());
        }

        Assert.Equal(AuditExportFormat.Csv, AuditLogExport.Export(records, dir.File("out.csv"), null, force: false).Format);
        var csv = File.ReadAllText(dir.File("out.csv"));
        var rows = csv.Split("\r\n");
        Assert.StartsWith("timestamp,event,credential_type,target,", rows[0], StringComparison.Ordinal);
        Assert.EndsWith(",run_id,step,fingerprint,error", rows[0], StringComparison.Ordinal);
        Assert.Contains(",\"a, \"\"b\"\"\r\nc\"\r\n", csv, StringComparison.Ordinal);
        Assert.Contains("2026-11-21T10:00:00.0000000+00:00,run.done,postgresql-password,x,ops,rollback,true,1.5,false,r-1,switch,sha256:0011aabb,\r\n", csv, StringComparison.Ordinal);

        var exists = Assert.Throws<RotationException>(() => AuditLogExport.Export(records, dir.File("out.csv"), AuditExportFormat.Json, force: false));
        Assert.Equal(RotationErrorIds.AuditExportFileExists, exists.ErrorId);
        Assert.Equal(csv, File.ReadAllText(dir.File("out.csv")));
        AuditLogExport.Export(records[..1], dir.File("out.csv"), AuditExportFormat.Json, force: true);
        Assert.StartsWith("[", File.ReadAllText(dir.File("out.csv")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("", "")]
    [InlineData("a,b", "\"a,b\"")]
    [InlineData("say \"hi\"", "\"say \"\"hi\"\"\"")]
    [InlineData("two\nlines", "\"two\nlines\"")]
    public void Csv_fields_are_quoted_only_when_rfc4180_requires_it(string value, string expected) =>
        Assert.Equal(expected, AuditLogExport.CsvField(value));
}

public sealed class AuditReasonFormatTests
{
    [Theory]
    [InlineData("rollback", AuditReason.Rollback)]
    [InlineData("Emergency", AuditReason.Emergency)]
    [InlineData("ROUTINE", AuditReason.Routine)]
    public void Reasons_are_written_lowercase_and_read_in_any_case(string written, AuditReason expected)
    {
        var record = JsonSerializer.Deserialize<RotationAuditRecord>($"{{\"event\":\"e\",\"target\":\"t\",\"reason\":\"{written}\"}}")!;

        Assert.Equal(expected, record.Reason);
        Assert.Contains($"\"reason\":\"{expected.ToString().ToLowerInvariant()}\"", JsonSerializer.Serialize(record), StringComparison.Ordinal);
    }
}

public sealed class AuditWriterTests
{
    [Fact]
    public void A_single_operation_is_stamped_with_the_services_clock_and_actor()
    {
        using var dir = TestEnvironment.NewTempDirectory();
        var services = Runs.RunTestKit.Services(dir.Path);

        services.WriteAudit("secret.set", "file:///s.json#db", credentialType: "db-password", fingerprint: "sha256:ab12", reason: AuditReason.Emergency);

        var record = Assert.Single(AuditLogReader.Read(dir.File("audit.jsonl")));
        Assert.Equal(("secret.set", "file:///s.json#db", "tester", AuditReason.Emergency, true, "sha256:ab12"),
            (record.Event, record.Target, record.PerformedBy, record.Reason, record.Success, record.Fingerprint));
        Assert.True(DateTimeOffset.UtcNow - record.Timestamp < TimeSpan.FromMinutes(1));
    }
}
