using System.Globalization;

namespace Rotation.Core.Redis;

/// <summary>One client connection as CLIENT LIST reports it (emitted by Get-RedisUserClient).</summary>
public sealed class RedisClientInfo
{
    public required string Endpoint { get; init; }

    public required long Id { get; init; }

    public required string User { get; init; }

    public string? Address { get; init; }

    public string? Name { get; init; }

    public int Database { get; init; }

    public TimeSpan Age { get; init; }

    public TimeSpan Idle { get; init; }

    public string? LastCommand { get; init; }

    public static IReadOnlyList<RedisClientInfo> ParseList(string text, string endpoint)
    {
        var list = new List<RedisClientInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq > 0)
                {
                    fields[pair[..eq]] = pair[(eq + 1)..];
                }
            }
            list.Add(new RedisClientInfo
            {
                Endpoint = endpoint,
                Id = Long(fields.GetValueOrDefault("id")),
                User = fields.GetValueOrDefault("user") ?? string.Empty,
                Address = fields.GetValueOrDefault("addr"),
                Name = fields.GetValueOrDefault("name") is { Length: > 0 } n ? n : null,
                Database = (int)Long(fields.GetValueOrDefault("db")),
                Age = TimeSpan.FromSeconds(Long(fields.GetValueOrDefault("age"))),
                Idle = TimeSpan.FromSeconds(Long(fields.GetValueOrDefault("idle"))),
                LastCommand = fields.GetValueOrDefault("cmd"),
            });
        }
        return list;
    }

    private static long Long(string? s) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;

    public override string ToString() => $"{User}@{Endpoint} #{Id} {Address}";
}
