using System.Globalization;
using Npgsql;

namespace Rotation.Core.Postgres;

/// <summary>
/// Everything a role may do that a replacement login must also be able to do, read from the catalogs of one
/// database (plus the shared ones): role attributes and settings, memberships, grants on databases, schemas, tables,
/// columns, sequences, routines, types, languages, tablespaces, foreign data wrappers and servers, large objects, and
/// default privileges (those the role receives and those it sets for its own future objects). Each item renders
/// both as a canonical line (snapshots of two roles are diffed line by line, the role itself written as $self) and
/// as the statement that gives it to another role. Objects the role owns are listed apart: ownership is not copied.
/// </summary>
public sealed class DbPrivilegeSnapshot
{
    public const string Self = "$self";

    private DbPrivilegeSnapshot(string role, List<DbPrivilegeItem> items, List<string> owned)
    {
        Role = role;
        Items = items;
        OwnedObjects = owned;
    }

    public string Role { get; }

    public IReadOnlyList<DbPrivilegeItem> Items { get; }

    /// <summary>Objects the role owns (pg_describe_object text; objects of other databases by database name).</summary>
    public IReadOnlyList<string> OwnedObjects { get; }

    public IReadOnlySet<string> Lines => Items.Select(i => i.Line).ToHashSet(StringComparer.Ordinal);

    /// <summary>Lines this snapshot has and <paramref name="other"/> lacks ("- ...") and the reverse ("+ ...").</summary>
    public IReadOnlyList<string> Diff(DbPrivilegeSnapshot other)
    {
        var mine = Lines;
        var theirs = other.Lines;
        return mine.Except(theirs).Order(StringComparer.Ordinal).Select(l => "- " + l)
            .Concat(theirs.Except(mine).Order(StringComparer.Ordinal).Select(l => "+ " + l))
            .ToList();
    }

    /// <summary>The statements that give <paramref name="newRole"/> what this snapshot's role has (attributes excluded: those go into CREATE ROLE).</summary>
    public IEnumerable<string> GrantStatements(string newRole) =>
        Items.Where(i => i.Kind != DbPrivilegeKind.Attribute).Select(i => i.GrantSql(newRole));

    /// <summary>CREATE ROLE's option list copied from this role (LOGIN forced: the replacement is a login).</summary>
    public string CreateRoleOptions()
    {
        var opts = Items.Where(i => i.Kind == DbPrivilegeKind.Attribute).Select(i => i.Object).ToList();
        if (!opts.Contains("LOGIN"))
        {
            opts.Insert(0, "LOGIN");
        }
        return string.Join(' ', opts);
    }

    public static async Task<DbPrivilegeSnapshot> ReadAsync(NpgsqlConnection connection, string role, CancellationToken cancellationToken)
    {
        var items = new List<DbPrivilegeItem>();
        uint oid;
        await using (var cmd = new NpgsqlCommand(
            "select oid, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil::text " +
            "from pg_roles where rolname = $1", connection))
        {
            cmd.Parameters.AddWithValue(role);
            await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await r.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw PgCatalog.UserNotFound(role, connection);
            }
            oid = r.GetFieldValue<uint>(0);
            void Attr(bool on, string yes, string? no = null)
            {
                if (on || no is not null)
                {
                    items.Add(DbPrivilegeItem.Attribute(on ? yes : no!));
                }
            }
            Attr(r.GetBoolean(1), "SUPERUSER");
            Attr(r.GetBoolean(2), "INHERIT", "NOINHERIT");
            Attr(r.GetBoolean(3), "CREATEROLE");
            Attr(r.GetBoolean(4), "CREATEDB");
            Attr(r.GetBoolean(5), "LOGIN", "NOLOGIN");
            Attr(r.GetBoolean(6), "REPLICATION");
            Attr(r.GetBoolean(7), "BYPASSRLS");
            var limit = r.GetInt32(8);
            if (limit >= 0)
            {
                items.Add(DbPrivilegeItem.Attribute("CONNECTION LIMIT " + limit.ToString(CultureInfo.InvariantCulture)));
            }
            if (!r.IsDBNull(9))
            {
                items.Add(DbPrivilegeItem.Attribute("VALID UNTIL " + PgQuote.Literal(r.GetString(9))));
            }
        }

        // Role settings (ALTER ROLE ... [IN DATABASE ...] SET): the server's own quoting via format().
        await ReadRowsAsync(connection, oid,
            "select coalesce(quote_ident(d.datname), ''), split_part(c, '=', 1), substr(c, strpos(c, '=') + 1) " +
            "from pg_db_role_setting s left join pg_database d on d.oid = s.setdatabase cross join lateral unnest(s.setconfig) c where s.setrole = $1",
            r => items.Add(DbPrivilegeItem.Setting(r.GetString(0), r.GetString(1), r.GetString(2))), cancellationToken).ConfigureAwait(false);

        await ReadRowsAsync(connection, oid,
            "select quote_ident(g.rolname), m.admin_option from pg_auth_members m join pg_roles g on g.oid = m.roleid where m.member = $1",
            r => items.Add(DbPrivilegeItem.Membership(r.GetString(0), r.GetBoolean(1))), cancellationToken).ConfigureAwait(false);

        // ACL grants. Entries on objects the role owns are the owner's own rights, which ownership (reported apart) carries.
        const string notSystem = "not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)";
        var acls = new (string Kind, string Sql)[]
        {
            ("DATABASE", "select quote_ident(o.datname), a.privilege_type, a.is_grantable from pg_database o cross join lateral aclexplode(o.datacl) a where a.grantee = $1 and o.datdba <> $1"),
            ("SCHEMA", $"select quote_ident(o.nspname), a.privilege_type, a.is_grantable from pg_namespace o cross join lateral aclexplode(o.nspacl) a where a.grantee = $1 and o.nspowner <> $1 and o.oid {notSystem}"),
            ("TABLE", $"select quote_ident(n.nspname) || '.' || quote_ident(o.relname), a.privilege_type, a.is_grantable from pg_class o join pg_namespace n on n.oid = o.relnamespace cross join lateral aclexplode(o.relacl) a where a.grantee = $1 and o.relowner <> $1 and o.relkind <> 'S' and o.relnamespace {notSystem}"),
            ("SEQUENCE", $"select quote_ident(n.nspname) || '.' || quote_ident(o.relname), a.privilege_type, a.is_grantable from pg_class o join pg_namespace n on n.oid = o.relnamespace cross join lateral aclexplode(o.relacl) a where a.grantee = $1 and o.relowner <> $1 and o.relkind = 'S' and o.relnamespace {notSystem}"),
            ("ROUTINE", $"select quote_ident(n.nspname) || '.' || quote_ident(o.proname) || '(' || pg_get_function_identity_arguments(o.oid) || ')', a.privilege_type, a.is_grantable from pg_proc o join pg_namespace n on n.oid = o.pronamespace cross join lateral aclexplode(o.proacl) a where a.grantee = $1 and o.proowner <> $1 and o.pronamespace {notSystem}"),
            ("TYPE", $"select quote_ident(n.nspname) || '.' || quote_ident(o.typname), a.privilege_type, a.is_grantable from pg_type o join pg_namespace n on n.oid = o.typnamespace cross join lateral aclexplode(o.typacl) a where a.grantee = $1 and o.typowner <> $1 and o.typnamespace {notSystem}"),
            ("LANGUAGE", "select quote_ident(o.lanname), a.privilege_type, a.is_grantable from pg_language o cross join lateral aclexplode(o.lanacl) a where a.grantee = $1 and o.lanowner <> $1"),
            ("TABLESPACE", "select quote_ident(o.spcname), a.privilege_type, a.is_grantable from pg_tablespace o cross join lateral aclexplode(o.spcacl) a where a.grantee = $1 and o.spcowner <> $1"),
            ("FOREIGN DATA WRAPPER", "select quote_ident(o.fdwname), a.privilege_type, a.is_grantable from pg_foreign_data_wrapper o cross join lateral aclexplode(o.fdwacl) a where a.grantee = $1 and o.fdwowner <> $1"),
            ("FOREIGN SERVER", "select quote_ident(o.srvname), a.privilege_type, a.is_grantable from pg_foreign_server o cross join lateral aclexplode(o.srvacl) a where a.grantee = $1 and o.srvowner <> $1"),
            ("LARGE OBJECT", "select o.oid::text, a.privilege_type, a.is_grantable from pg_largeobject_metadata o cross join lateral aclexplode(o.lomacl) a where a.grantee = $1 and o.lomowner <> $1"),
        };
        foreach (var (kind, sql) in acls)
        {
            await ReadRowsAsync(connection, oid, sql, r => items.Add(DbPrivilegeItem.Grant(kind, r.GetString(0), r.GetString(1), r.GetBoolean(2))), cancellationToken).ConfigureAwait(false);
        }
        await ReadRowsAsync(connection, oid,
            "select quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(t.attname), a.privilege_type, a.is_grantable " +
            "from pg_attribute t join pg_class c on c.oid = t.attrelid join pg_namespace n on n.oid = c.relnamespace cross join lateral aclexplode(t.attacl) a " +
            $"where a.grantee = $1 and c.relowner <> $1 and not t.attisdropped and c.relnamespace {notSystem}",
            r => items.Add(DbPrivilegeItem.ColumnGrant(r.GetString(0), r.GetString(1), r.GetString(2), r.GetBoolean(3))), cancellationToken).ConfigureAwait(false);

        // Default privileges: those other roles' future objects give this role, and those this role's future objects give.
        await ReadRowsAsync(connection, oid,
            "select case when d.defaclrole = $1 then '' else quote_ident(o.rolname) end, coalesce(quote_ident(n.nspname), ''), d.defaclobjtype::text, " +
            "a.privilege_type, a.is_grantable, case when a.grantee = $1 then '' when a.grantee = 0 then 'PUBLIC' else quote_ident(g.rolname) end " +
            "from pg_default_acl d join pg_roles o on o.oid = d.defaclrole left join pg_namespace n on n.oid = d.defaclnamespace " +
            "cross join lateral aclexplode(d.defaclacl) a left join pg_roles g on g.oid = a.grantee " +
            "where d.defaclrole = $1 or a.grantee = $1",
            r => items.Add(DbPrivilegeItem.Default(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), r.GetString(5))),
            cancellationToken).ConfigureAwait(false);

        var owned = new List<string>();
        await ReadRowsAsync(connection, oid,
            "select case when s.dbid = (select oid from pg_database where datname = current_database()) or s.dbid = 0 " +
            "then pg_describe_object(s.classid, s.objid, 0) else 'an object in database ' || coalesce(d.datname, s.dbid::text) end " +
            "from pg_shdepend s left join pg_database d on d.oid = s.dbid " +
            "where s.refclassid = 'pg_authid'::regclass and s.refobjid = $1 and s.deptype = 'o' " +
            // Default-privilege entries are rights (DROP OWNED removes them), not objects someone must take over.
            "and s.classid <> 'pg_default_acl'::regclass order by 1",
            r => owned.Add(r.GetString(0)), cancellationToken).ConfigureAwait(false);

        return new DbPrivilegeSnapshot(role, items.DistinctBy(i => i.Line).ToList(), owned);
    }

    private static async Task ReadRowsAsync(NpgsqlConnection connection, uint oid, string sql, Action<NpgsqlDataReader> row, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(sql, connection);
        cmd.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await r.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            row(r);
        }
    }
}

public enum DbPrivilegeKind
{
    Attribute,
    Setting,
    Membership,
    Grant,
    ColumnGrant,
    DefaultPrivilege,
}

/// <summary>
/// One thing a role may do. Object names come quoted by the server (quote_ident); role names quoted by
/// <see cref="PgQuote"/>; an empty role name stands for the role itself.
/// </summary>
public sealed class DbPrivilegeItem
{
    private readonly Func<string, string> _sql;

    private DbPrivilegeItem(DbPrivilegeKind kind, string obj, string line, Func<string, string> sql)
    {
        Kind = kind;
        Object = obj;
        Line = line;
        _sql = sql;
    }

    public DbPrivilegeKind Kind { get; }

    public string Object { get; }

    /// <summary>Canonical text, the same for two roles with the same rights.</summary>
    public string Line { get; }

    public string GrantSql(string role) => _sql(PgQuote.Identifier(role));

    public override string ToString() => Line;

    internal static DbPrivilegeItem Attribute(string option) => new(DbPrivilegeKind.Attribute, option, "ATTRIBUTE " + option, _ => string.Empty);

    internal static DbPrivilegeItem Setting(string database, string name, string value)
    {
        var scope = database.Length == 0 ? string.Empty : " IN DATABASE " + database;
        // A list setting (search_path) is stored flattened: each element goes back as its own literal.
        var rendered = string.Join(", ", SplitList(value).Select(PgQuote.Literal));
        return new(DbPrivilegeKind.Setting, name, $"SETTING{scope} {name}={value}",
            r => $"ALTER ROLE {r}{scope} SET {PgQuote.Identifier(name)} = {rendered}");
    }

    internal static DbPrivilegeItem Membership(string group, bool admin) =>
        new(DbPrivilegeKind.Membership, group, $"MEMBER OF {group}{(admin ? " WITH ADMIN OPTION" : string.Empty)}",
            r => $"GRANT {group} TO {r}{(admin ? " WITH ADMIN OPTION" : string.Empty)}");

    internal static DbPrivilegeItem Grant(string kind, string obj, string privilege, bool grantable)
    {
        var option = grantable ? " WITH GRANT OPTION" : string.Empty;
        return new(DbPrivilegeKind.Grant, obj, $"{kind} {obj} {privilege}{option}", r => $"GRANT {privilege} ON {kind} {obj} TO {r}{option}");
    }

    internal static DbPrivilegeItem ColumnGrant(string table, string column, string privilege, bool grantable)
    {
        var option = grantable ? " WITH GRANT OPTION" : string.Empty;
        return new(DbPrivilegeKind.ColumnGrant, table, $"COLUMN {table}.{column} {privilege}{option}",
            r => $"GRANT {privilege} ({column}) ON TABLE {table} TO {r}{option}");
    }

    internal static DbPrivilegeItem Default(string forRole, string schema, string objType, string privilege, bool grantable, string grantee)
    {
        var objects = objType switch
        {
            "r" => "TABLES",
            "S" => "SEQUENCES",
            "f" => "FUNCTIONS",
            "T" => "TYPES",
            "n" => "SCHEMAS",
            _ => objType,
        };
        var inSchema = schema.Length == 0 ? string.Empty : " IN SCHEMA " + schema;
        var option = grantable ? " WITH GRANT OPTION" : string.Empty;
        var line = $"DEFAULT FOR {(forRole.Length == 0 ? DbPrivilegeSnapshot.Self : forRole)}{inSchema} ON {objects} {privilege} TO {(grantee.Length == 0 ? DbPrivilegeSnapshot.Self : grantee)}{option}";
        return new(DbPrivilegeKind.DefaultPrivilege, objects, line,
            r => $"ALTER DEFAULT PRIVILEGES FOR ROLE {(forRole.Length == 0 ? r : forRole)}{inSchema} GRANT {privilege} ON {objects} TO {(grantee.Length == 0 ? r : grantee)}{option}");
    }

    /// <summary>Splits a flattened GUC list ("\"$user\", public") into its elements, unquoting double-quoted ones.</summary>
    internal static IEnumerable<string> SplitList(string value)
    {
        var parts = new List<string>();
        var current = new System.Text.StringBuilder();
        var quoted = false;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '"')
            {
                if (quoted && i + 1 < value.Length && value[i + 1] == '"')
                {
                    current.Append('"');
                    i++;
                }
                else
                {
                    quoted = !quoted;
                }
            }
            else if (c == ',' && !quoted)
            {
                parts.Add(current.ToString().Trim());
                current.Clear();
            }
            else
            {
                current.Append(c);
            }
        }
        parts.Add(current.ToString().Trim());
        return parts;
    }
}
