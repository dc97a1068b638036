using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Digests;

/// <summary>
/// DKIM signing (RSA-SHA256, relaxed/relaxed) when Dkim:Domain, Dkim:Selector and Dkim:PrivateKeyPath are set.
/// The key is loaded once at start; signing is the last step of composing a message.
/// </summary>
public sealed class DkimSigning
{
    /// <summary>The headers the signature covers: identity, content, and the list headers receivers act on.</summary>
    public static readonly IReadOnlyList<string> SignedHeaders =
    [
        "From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
        "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Feedback-ID",
    ];

    /// <summary>
    /// Headers listed once more than they occur (over-signed, RFC 6376 section 8.15): the extra entry signs their
    /// absence, so a second instance added in transit (a prepended Subject or From, which many readers show instead of
    /// ours) breaks the signature instead of riding on it.
    /// </summary>
    public static readonly IReadOnlyList<string> OverSignedHeaders =
        ["From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"];

    readonly DkimSigner? _signer;
    readonly string[] _headers = [.. SignedHeaders, .. OverSignedHeaders];

    public DkimSigning(IOptions<DkimOptions> options, IHostEnvironment environment)
        : this(options.Value.Enabled ? Load(options.Value, environment.ContentRootPath) : null)
    {
    }

    internal DkimSigning(DkimSigner? signer) => _signer = signer;

    public bool Enabled => _signer is not null;

    /// <summary>Signs <paramref name="message"/> in place (no-op when DKIM is off). Nothing may change it afterwards.</summary>
    public void Sign(MimeMessage message)
    {
        if (_signer is null)
        {
            return;
        }
        // Fix the transfer encodings before hashing, so no relay has a reason to re-encode the body.
        message.Prepare(EncodingConstraint.SevenBit);
        _signer.Sign(message, _headers);
    }

    /// <summary>Relaxed/relaxed canonicalization: survives the whitespace and header folding relays change.</summary>
    internal static DkimSigner Relaxed(DkimSigner signer)
    {
        signer.HeaderCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        signer.BodyCanonicalizationAlgorithm = DkimCanonicalizationAlgorithm.Relaxed;
        return signer;
    }

    /// <summary>The signer for <paramref name="options"/>, or an exception whose message names the key file and the problem.</summary>
    internal static DkimSigner Load(DkimOptions options, string contentRoot)
    {
        var path = AppHome.Resolve(contentRoot, options.PrivateKeyPath!);
        if (!File.Exists(path))
        {
            throw new InvalidOperationException($"Dkim:PrivateKeyPath: no key file at {path}.");
        }
        try
        {
            return Relaxed(new NativeRsaDkimSigner(File.ReadAllText(path), options.Domain!.Trim(), options.Selector!.Trim()));
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ArgumentException or InvalidCastException or CryptographicException)
        {
            throw new InvalidOperationException($"Dkim:PrivateKeyPath: {path} is not a readable PEM RSA private key ({e.Message}).", e);
        }
    }
}

/// <summary>Checks the DKIM settings at start: all three or none, and a key that loads.</summary>
sealed class DkimOptionsValidator(IHostEnvironment environment) : IValidateOptions<DkimOptions>
{
    public ValidateOptionsResult Validate(string? name, DkimOptions options)
    {
        var set = new[] { options.Domain, options.Selector, options.PrivateKeyPath }.Count(v => !string.IsNullOrWhiteSpace(v));
        if (set is not (0 or 3))
        {
            return ValidateOptionsResult.Fail(
                "Dkim:Domain, Dkim:Selector and Dkim:PrivateKeyPath must be set together (all three to sign, none to send unsigned).");
        }
        if (set == 0)
        {
            return ValidateOptionsResult.Success;
        }
        try
        {
            DkimSigning.Load(options, environment.ContentRootPath);
            return ValidateOptionsResult.Success;
        }
        catch (InvalidOperationException e)
        {
            return ValidateOptionsResult.Fail(e.Message);
        }
    }
}

/// <summary>
/// MimeKit's DKIM signer with the RSA signature made by the platform's cryptography (OpenSSL) instead of
/// BouncyCastle's managed RSA, several times faster: on a busy machine that is the difference between DKIM
/// being the cost of every message and being noise. MimeKit still canonicalizes and hashes the body.
/// </summary>
sealed class NativeRsaDkimSigner : DkimSigner
{
    // RSA instances are not documented as thread-safe; the sending engine signs from several threads.
    readonly ThreadLocal<RSA> _rsa;

    /// <param name="pem">The private key, PEM (PKCS#1 or PKCS#8).</param>
    public NativeRsaDkimSigner(string pem, string domain, string selector)
        : base(new MemoryStream(System.Text.Encoding.ASCII.GetBytes(pem)), domain, selector, DkimSignatureAlgorithm.RsaSha256)
    {
        _rsa = new ThreadLocal<RSA>(() =>
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(pem);
            return rsa;
        });
        _ = _rsa.Value; // a key the platform cannot read fails here, at start-up
    }

    protected override ISigner CreateSigningContext() => new Signer(_rsa.Value!);

    /// <summary>SHA-256 over what MimeKit feeds in, then a PKCS#1 v1.5 signature: RSA-SHA256 as DKIM defines it.</summary>
    sealed class Signer(RSA rsa) : ISigner
    {
        readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public string AlgorithmName => "SHA-256withRSA";

        public void Init(bool forSigning, ICipherParameters parameters)
        {
            if (!forSigning)
            {
                throw new NotSupportedException("This signer only signs.");
            }
        }

        public void Update(byte input) => _hash.AppendData([input]);

        public void BlockUpdate(byte[] input, int inOff, int inLen) => _hash.AppendData(input, inOff, inLen);

        public void BlockUpdate(ReadOnlySpan<byte> input) => _hash.AppendData(input);

        public int GetMaxSignatureSize() => rsa.KeySize / 8;

        public byte[] GenerateSignature() => rsa.SignHash(_hash.GetHashAndReset(), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        public bool VerifySignature(byte[] signature) => throw new NotSupportedException("This signer only signs.");

        public void Reset() => _hash.GetHashAndReset();
    }
}
