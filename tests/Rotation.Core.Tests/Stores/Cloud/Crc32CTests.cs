using System.Text;
using Rotation.Core.Stores.Google;

namespace Rotation.Core.Tests.Stores.Cloud;

public sealed class Crc32CTests
{
    // Check values from RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check string.
    [Fact]
    public void Matches_the_published_check_values()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray()));
        Assert.Equal(0x113FDB5Cu, Crc32C.Compute(Enumerable.Range(0, 32).Select(i => (byte)(31 - i)).ToArray()));
        Assert.Equal(0u, Crc32C.Compute([]));
    }
}
