using System.Runtime.InteropServices;
using System.Security.AccessControl;

namespace Rotation.Core.Runs;

/// <summary>
/// File primitives for Rotation's own state (journal, audit log): owner-only folders (0700) and files (0600),
/// atomic replace, and appends that stay whole under concurrent writers. Callers turn IOException and
/// UnauthorizedAccessException into their own RotationException ids.
/// </summary>
internal static class PrivateFiles
{
    private const UnixFileMode OwnerOnlyDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static void EnsureDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, OwnerOnlyDirectory);
        }
    }

    /// <summary>Creates the file empty with mode 0600 unless it exists (an existing file keeps its mode).</summary>
    public static void EnsureFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write, Share = FileShare.ReadWrite | FileShare.Delete };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }
        using var _ = new FileStream(path, options);
    }

    /// <summary>
    /// Replaces the file's content as one step: readers and a crash see either the old or the new document, never
    /// a torn one. The temp file is fsynced before the rename and the folder after it, so the rename survives a
    /// power loss.
    /// </summary>
    public static void WriteAtomic(string path, ReadOnlySpan<byte> content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        EnsureDirectory(directory);
        var temp = Path.Combine(directory, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = OwnerOnlyFile;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        SyncDirectory(directory);
    }

    /// <summary>
    /// Appends one record with a single write on a descriptor opened with O_APPEND, then fsyncs: the kernel places
    /// each write at the end of the file atomically, so concurrent writers (threads or processes) never interleave
    /// or overwrite each other. On Windows the handle has only FILE_APPEND_DATA, which gives the same guarantee.
    /// </summary>
    public static void AppendDurably(string path, byte[] line)
    {
        EnsureDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        EnsureFile(path);
        if (OperatingSystem.IsWindows())
        {
            AppendWindows(path, line);
            return;
        }
        var fd = Unix.open(Unix.PathBytes(path), Unix.O_WRONLY | Unix.O_APPEND | Unix.O_CLOEXEC);
        if (fd < 0)
        {
            throw Unix.Error("open", path);
        }
        try
        {
            var written = Unix.write(fd, line, line.Length);
            if (written != line.Length)
            {
                throw written < 0 ? Unix.Error("write", path) : new IOException($"Only {written} of {line.Length} bytes reached '{path}' (disk full?).");
            }
            if (Unix.fsync(fd) != 0)
            {
                throw Unix.Error("fsync", path);
            }
        }
        finally
        {
            _ = Unix.close(fd);
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static void AppendWindows(string path, byte[] line)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException();
        }
        using var stream = new FileInfo(path).Create(FileMode.Append, FileSystemRights.AppendData | FileSystemRights.Synchronize,
            FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.WriteThrough, null);
        stream.Write(line);
        stream.Flush(flushToDisk: true);
    }

    // Best effort: some file systems refuse fsync on a folder; the file itself is already durable.
    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        var fd = Unix.open(Unix.PathBytes(directory), Unix.O_RDONLY | Unix.O_CLOEXEC);
        if (fd >= 0)
        {
            _ = Unix.fsync(fd);
            _ = Unix.close(fd);
        }
    }

#pragma warning disable SA1300, IDE1006 // libc names
    private static class Unix
    {
        public const int O_RDONLY = 0;
        public const int O_WRONLY = 1;
        public static readonly int O_APPEND = OperatingSystem.IsLinux() ? 0x400 : 0x8;
        public static readonly int O_CLOEXEC = OperatingSystem.IsLinux() ? 0x80000 : OperatingSystem.IsMacOS() ? 0x1000000 : 0x100000;

        // No mode argument: open(2) is variadic and a mode is only read with O_CREAT, which we never pass here
        // (the file is created by .NET with UnixCreateMode first), so this signature is safe on every ABI.
        [DllImport("libc", SetLastError = true)]
        public static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern nint write(int fd, byte[] buffer, nint count);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);

        public static byte[] PathBytes(string path)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(path);
            Array.Resize(ref bytes, bytes.Length + 1);
            return bytes;
        }

        public static IOException Error(string call, string path) =>
            new($"{call} failed on '{path}': {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}.");
    }
#pragma warning restore SA1300, IDE1006
}
