using System.Text;
using Rotation.Core.Errors;

namespace Rotation.Core.Secrets;

/// <summary>
/// Writes a key pair as PEM files: the PKCS#8 private key with mode 0600, the SubjectPublicKeyInfo public key with
/// 0644. An existing file is never replaced without force; a replacement goes through a temporary file in the same
/// folder and a rename, so nobody ever reads a half-written key and the private key is never briefly readable by others.
/// </summary>
public static class KeyPairFiles
{
    public const UnixFileMode PrivateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public const UnixFileMode PublicMode = PrivateMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// Checks before anything is written (and before ShouldProcess, so -WhatIf reports the same refusal):
    /// distinct paths, folders that exist, no file replaced without force.
    /// </summary>
    public static void Check(string? privateKeyPath, string? publicKeyPath, bool force)
    {
        if (privateKeyPath is not null && publicKeyPath is not null &&
            string.Equals(Path.GetFullPath(privateKeyPath), Path.GetFullPath(publicKeyPath), StringComparison.Ordinal))
        {
            throw Errors.Errors.InvalidArgument(privateKeyPath, $"The private and public key paths are the same file ('{privateKeyPath}'); give two paths.");
        }
        foreach (var path in new[] { privateKeyPath, publicKeyPath })
        {
            if (path is null)
            {
                continue;
            }
            var folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder is not null && !Directory.Exists(folder))
            {
                throw NotWritable(path, $"The folder of '{path}' does not exist; create it first.", null);
            }
            if (Directory.Exists(path))
            {
                throw NotWritable(path, $"'{path}' is a folder; give a file path.", null);
            }
            if (File.Exists(path) && !force)
            {
                throw Exists(path);
            }
        }
    }

    /// <summary>Writes the files given (either may be null). A public file that fails removes a private file this call created.</summary>
    public static void Write(GeneratedKeyPair pair, string? privateKeyPath, string? publicKeyPath, bool force)
    {
        ArgumentNullException.ThrowIfNull(pair);
        Check(privateKeyPath, publicKeyPath, force);
        var createdPrivate = false;
        if (privateKeyPath is not null)
        {
            var existed = File.Exists(privateKeyPath);
            var pem = pair.ExportPrivateKeyPemChars();
            try
            {
                WriteFile(privateKeyPath, pem, PrivateMode, force);
            }
            finally
            {
                Array.Clear(pem);
            }
            createdPrivate = !existed;
        }
        if (publicKeyPath is not null)
        {
            try
            {
                WriteFile(publicKeyPath, pair.ExportPublicKeyPem().ToCharArray(), PublicMode, force);
            }
            catch when (createdPrivate)
            {
                File.Delete(privateKeyPath!);
                throw;
            }
        }
    }

    private static void WriteFile(string path, char[] pem, UnixFileMode mode, bool force)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var bytes = Encoding.ASCII.GetBytes(pem);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = PrivateMode;
            }
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            if (!OperatingSystem.IsWindows())
            {
                // Set explicitly: the create mode is filtered by the umask, and the public key must end up 0644.
                File.SetUnixFileMode(temp, mode);
            }
            File.Move(temp, full, overwrite: force);
        }
        catch (IOException) when (!force && File.Exists(full))
        {
            throw Exists(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw NotWritable(path, $"Could not write the key file '{path}': {ex.Message}", ex);
        }
        finally
        {
            Array.Clear(bytes);
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    private static RotationException Exists(string path) =>
        new(RotationErrorIds.KeyFileExists, RotationErrorCategory.ResourceExists, path,
            $"The key file '{path}' already exists; nothing was written. Choose another path, or add -Force to replace it.");

    private static RotationException NotWritable(string path, string message, Exception? inner) =>
        new(RotationErrorIds.KeyFileNotWritable, RotationErrorCategory.WriteError, path, message, inner);
}
