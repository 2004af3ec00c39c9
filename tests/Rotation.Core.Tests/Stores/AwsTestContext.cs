using Rotation.Core.Stores;
using Rotation.Core.Tests.Infrastructure;

namespace Rotation.Core.Tests.Stores;

/// <summary>A StoreContext pointing at the moto server that tests/servers.sh started (signatures checked).</summary>
internal static class AwsTestContext
{
    public const string Region = "us-east-1";

    public static Dictionary<string, string> Environment(string? secretKey = null) => new(StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = TestEnvironment.Require("ROTATION_TEST_AWS_ACCESS_KEY_ID"),
        ["AWS_SECRET_ACCESS_KEY"] = secretKey ?? TestEnvironment.Require("ROTATION_TEST_AWS_SECRET_ACCESS_KEY"),
        ["AWS_ENDPOINT_URL"] = TestEnvironment.Require("ROTATION_TEST_AWS_ENDPOINT"),
        // Never probe EC2 instance metadata (1.6 s per miss) from a test.
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    public static StoreContext Create(string? secretKey = null, int maxRetries = 4)
    {
        var env = Environment(secretKey);
        return new StoreContext { GetEnvironmentVariable = n => env.GetValueOrDefault(n), MaxRetries = maxRetries };
    }

    public static SecretStoreUri NewUri() => SecretStoreUri.Parse($"aws-sm://{Region}/rotation-tests/{Guid.NewGuid():N}");
}
