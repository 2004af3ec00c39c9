using Rotation.Core.Errors;

namespace Rotation.Core.Redis;

/// <summary>A selector (Redis 7): an extra, independent set of key, channel and command rules.</summary>
public sealed record RedisAclSelector(string Keys, string Channels, string Commands)
{
    public string ToRule() => "(" + string.Join(' ', new[] { Keys, ChannelsRule(Channels), Commands }.Where(s => s.Length > 0)) + ")";

    internal static string ChannelsRule(string channels) => channels.Length == 0 ? "resetchannels" : channels;
}

/// <summary>
/// A user's rules as ACL GETUSER reports them. Password hashes are kept apart from the rule set, so two users'
/// permissions compare equal whatever their passwords (the NewUser strategy's proof).
/// </summary>
public sealed class RedisAclUser
{
    public required string Name { get; init; }

    public required IReadOnlyList<string> Flags { get; init; }

    /// <summary>SHA-256 hex digests of the user's passwords, as the server reports them. Not shown to people.</summary>
    public required IReadOnlyList<string> PasswordHashes { get; init; }

    public required string Commands { get; init; }

    public required string Keys { get; init; }

    public required string Channels { get; init; }

    public required IReadOnlyList<RedisAclSelector> Selectors { get; init; }

    public bool Enabled => Flags.Contains("on");

    public static RedisAclUser Parse(string name, RespValue reply, string target)
    {
        try
        {
            var map = reply.AsPairs().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            return new RedisAclUser
            {
                Name = name,
                Flags = Strings(map.GetValueOrDefault("flags")),
                PasswordHashes = Strings(map.GetValueOrDefault("passwords")),
                Commands = Joined(map.GetValueOrDefault("commands"), ""),
                Keys = Joined(map.GetValueOrDefault("keys"), "~"),
                Channels = Joined(map.GetValueOrDefault("channels"), "&"),
                Selectors = map.TryGetValue("selectors", out var sel) && !sel.IsNull
                    ? sel.AsList().Select(s =>
                    {
                        var m = s.AsPairs().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
                        return new RedisAclSelector(Joined(m.GetValueOrDefault("keys"), "~"), Joined(m.GetValueOrDefault("channels"), "&"), Joined(m.GetValueOrDefault("commands"), ""));
                    }).ToList()
                    : [],
            };
        }
        catch (InvalidOperationException ex)
        {
            throw new RotationException(RotationErrorIds.RedisProtocolError, RotationErrorCategory.ProtocolError, target,
                $"The Redis server at {target} answered ACL GETUSER {name} with a reply this module does not understand ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// The ACL SETUSER rules that give another user exactly these permissions, without any password: reset first,
    /// so nothing of an existing user survives, then state, keys, channels, commands and selectors.
    /// </summary>
    public IReadOnlyList<string> CloneRules()
    {
        var rules = new List<string> { "reset", Enabled ? "on" : "off" };
        rules.AddRange(Flags.Where(f => f is "sanitize-payload" or "skip-sanitize-payload"));
        // Redis 6 reported these as flags rather than patterns.
        if (Flags.Contains("allkeys")) { rules.Add("~*"); }
        if (Flags.Contains("allchannels")) { rules.Add("&*"); }
        if (Flags.Contains("allcommands")) { rules.Add("+@all"); }
        rules.AddRange(Split(Keys));
        rules.Add("resetchannels");
        rules.AddRange(Split(Channels));
        rules.AddRange(Split(Commands));
        rules.AddRange(Selectors.Select(s => s.ToRule()));
        return rules;
    }

    /// <summary>Everything but the name and passwords, in a form two users can be compared by.</summary>
    public string RuleSignature() =>
        string.Join(" | ", [
            string.Join(' ', Flags.Where(f => f != "nopass").Order(StringComparer.Ordinal)),
            NormalizePatterns(Keys), NormalizePatterns(Channels), NormalizeCommands(Commands),
            .. Selectors.Select(s => $"({NormalizePatterns(s.Keys)} {NormalizePatterns(s.Channels)} {NormalizeCommands(s.Commands)})"),
        ]);

    /// <summary>Key and channel patterns only add to each other, so their order carries no meaning.</summary>
    internal static string NormalizePatterns(string rules) => string.Join(' ', Split(rules).Order(StringComparer.Ordinal));

    /// <summary>
    /// Redis describes individual command rules in its command table's hash order, which differs between server
    /// processes (the same rules read '-@all +get +set' on one node and '-@all +set +get' on another). Rules on
    /// different commands commute, so between category rules (which do not commute with them) the command rules are
    /// sorted by command name; a stable sort keeps the order of rules on one command and its subcommands.
    /// </summary>
    internal static string NormalizeCommands(string rules)
    {
        var result = new List<string>();
        var run = new List<string>();
        void Flush()
        {
            result.AddRange(run.OrderBy(r => r[1..].Split('|')[0], StringComparer.Ordinal));
            run.Clear();
        }
        foreach (var token in Split(rules))
        {
            if (token.Length > 1 && token[1] == '@')
            {
                Flush();
                result.Add(token);
            }
            else
            {
                run.Add(token);
            }
        }
        Flush();
        return string.Join(' ', result);
    }

    /// <summary>Names what differs between two rule sets, for an error message (no password material).</summary>
    public static string Describe(RedisAclUser a, RedisAclUser b)
    {
        var diffs = new List<string>();
        void Cmp(string what, string x, string y)
        {
            if (!string.Equals(x, y, StringComparison.Ordinal))
            {
                diffs.Add($"{what} '{x}' vs '{y}'");
            }
        }
        Cmp("flags", string.Join(' ', a.Flags.Where(f => f != "nopass")), string.Join(' ', b.Flags.Where(f => f != "nopass")));
        Cmp("keys", NormalizePatterns(a.Keys), NormalizePatterns(b.Keys));
        Cmp("channels", NormalizePatterns(a.Channels), NormalizePatterns(b.Channels));
        Cmp("commands", NormalizeCommands(a.Commands), NormalizeCommands(b.Commands));
        Cmp("selectors", string.Join(' ', a.Selectors.Select(s => s.ToRule())), string.Join(' ', b.Selectors.Select(s => s.ToRule())));
        return diffs.Count == 0 ? "no difference" : string.Join("; ", diffs);
    }

    private static IReadOnlyList<string> Strings(RespValue? v) =>
        v is null || v.IsNull ? [] : v.Type is RespType.Array or RespType.Set ? v.Items.Select(i => i.AsString()).ToList() : [v.AsString()];

    // Redis 7 reports keys/channels/commands as one rule string; Redis 6 as a list of bare patterns.
    private static string Joined(RespValue? v, string prefix) =>
        v is null || v.IsNull ? string.Empty
        : v.Type is RespType.Array or RespType.Set ? string.Join(' ', v.Items.Select(i => prefix + i.AsString()))
        : v.AsString();

    private static IEnumerable<string> Split(string rules) => rules.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
