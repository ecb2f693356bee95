using System.Security.Cryptography;
using System.Text;

namespace Cogrion.Portal.Infrastructure.OpenTofu.AliCloud;

/// <summary>
/// AliCloud's signature for RPC-style APIs (SignatureMethod HMAC-SHA1, SignatureVersion 1.0), as its
/// "Signature mechanism" page describes it: sort every parameter but Signature by name, percent-encode
/// names and values, join them as <c>name=value</c> with <c>&amp;</c>; the string to sign is
/// <c>METHOD&amp;%2F&amp;</c> + the percent-encoded result; the signature is
/// <c>Base64(HMAC-SHA1(secret + "&amp;", UTF-8(string to sign)))</c>.
/// </summary>
public static class AliCloudRpcSignature
{
    /// <summary>
    /// AliCloud's percent-encoding: RFC 3986 unreserved characters (A-Z a-z 0-9 - _ . ~) stay, every
    /// other UTF-8 byte becomes %XY with upper-case hex, so a space is %20 (never +) and * is %2A.
    /// Written out rather than borrowed from a URL encoder, whose rules differ in exactly these places.
    /// </summary>
    public static string PercentEncode(string value)
    {
        var encoded = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
                encoded.Append(c);
            else
                encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }

    /// <summary>The encoded, sorted <c>name=value&amp;…</c> string; the order is by parameter name, byte for byte.</summary>
    public static string CanonicalizedQuery(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join('&', parameters
            .Where(p => p.Key != "Signature")
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => PercentEncode(p.Key) + "=" + PercentEncode(p.Value)));

    public static string StringToSign(string httpMethod, IEnumerable<KeyValuePair<string, string>> parameters) =>
        httpMethod.ToUpperInvariant() + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalizedQuery(parameters));

    public static string Sign(string httpMethod, IEnumerable<KeyValuePair<string, string>> parameters, string accessKeySecret) =>
        Convert.ToBase64String(HMACSHA1.HashData(
            Encoding.UTF8.GetBytes(accessKeySecret + "&"),
            Encoding.UTF8.GetBytes(StringToSign(httpMethod, parameters))));
}
