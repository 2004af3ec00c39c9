using Rotation.Core.Errors;
using Rotation.Core.Stores;

namespace Rotation.Core.Tests.Stores;

public class SecretStoreUriTests
{
    [Theory]
    [InlineData("file:///var/lib/app/s.json#db", "file", "/var/lib/app/s.json", "db", null)]
    [InlineData("file://./s.json#db#password", "file", "./s.json", "db", "password")]
    [InlineData("aws-sm://us-east-1/prod/ticket-service/jwt-ring", "aws-sm", "us-east-1", "prod/ticket-service/jwt-ring", null)]
    [InlineData("k8s://prod/default/postgresql-credentials#password", "k8s", "prod", "default/postgresql-credentials", "password")]
    [InlineData("gcp-sm://aivo-prod/auth-database-url", "gcp-sm", "aivo-prod", "auth-database-url", null)]
    [InlineData("azure-kv://myvault/db-password", "azure-kv", "myvault", "db-password", null)]
    [InlineData("vault://secret/app/db#password", "vault", "secret", "app/db", "password")]
    public void Parses_each_scheme(string text, string scheme, string authority, string path, string? field)
    {
        var uri = SecretStoreUri.Parse(text);
        Assert.Equal(scheme, uri.Scheme);
        Assert.Equal(authority, uri.Authority);
        Assert.Equal(path, uri.Path);
        Assert.Equal(field, uri.Field);
        Assert.Equal(text, uri.ToString());
    }

    [Fact]
    public void Unknown_scheme_names_the_known_ones()
    {
        var ex = Assert.Throws<RotationException>(() => SecretStoreUri.Parse("s3://bucket/key"));
        Assert.Equal(RotationErrorIds.UnknownStoreScheme, ex.ErrorId);
        foreach (var s in SecretStoreUri.KnownSchemes)
        {
            Assert.Contains(s + "://", ex.Message);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("no-scheme")]
    [InlineData("file:///tmp/x.json")]
    [InlineData("file:///tmp/x.json#")]
    [InlineData("aws-sm://us-east-1")]
    [InlineData("aws-sm://us-east-1/")]
    [InlineData("k8s://ctx/ns")]
    [InlineData("k8s://ctx/ns/a/b")]
    [InlineData("vault://secret/a//b")]
    [InlineData("gcp-sm://p/s#")]
    public void Malformed_uris_are_InvalidStoreUri(string text)
    {
        var ex = Assert.Throws<RotationException>(() => SecretStoreUri.Parse(text));
        Assert.Equal(RotationErrorIds.InvalidStoreUri, ex.ErrorId);
        Assert.Equal(RotationErrorCategory.InvalidArgument, ex.Category);
    }

    [Fact]
    public void WithoutField_drops_only_the_field()
    {
        var uri = SecretStoreUri.Parse("k8s://prod/default/creds#password");
        Assert.Equal("k8s://prod/default/creds", uri.WithoutField().ToString());
        Assert.Null(uri.WithoutField().Field);
    }
}
