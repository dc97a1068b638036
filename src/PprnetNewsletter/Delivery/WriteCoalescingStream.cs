namespace PprnetNewsletter.Delivery;

/// <summary>
/// Holds what is written until the writer flushes or reads, then passes it on in one write; reads are not buffered.
/// MailKit writes a message in 4 KB blocks, each a send of its own on the socket and a wake-up of its own for the
/// server; under this stream a digest goes out in one send after its pipelined commands. Unlike
/// <see cref="BufferedStream"/> it never buffers reads, which on a socket would make the next write fail
/// (it cannot seek back over a reply read ahead).
/// </summary>
sealed class WriteCoalescingStream(Stream inner, int capacity) : Stream
{
    readonly byte[] _buffer = new byte[capacity];
    int _count;

    public override bool CanRead => inner.CanRead;
    public override bool CanWrite => inner.CanWrite;
    public override bool CanSeek => false;
    public override bool CanTimeout => inner.CanTimeout;

    public override int ReadTimeout
    {
        get => inner.ReadTimeout;
        set => inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => inner.WriteTimeout;
        set => inner.WriteTimeout = value;
    }

    // A read waits for the other side's answer to what was written: whatever is still held goes out first, or both
    // sides wait for each other until a time-out. MailKit does not always flush the stream under it after a message's
    // data: about one message length in 4,096 (its blocks' size) reached this stream without a flush and hung.
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        FlushBuffer();
        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        await FlushBufferAsync(ct);
        return await inner.ReadAsync(buffer, ct);
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (!Fits(buffer.Length))
        {
            FlushBuffer();
            if (buffer.Length > _buffer.Length)
            {
                inner.Write(buffer);
                return;
            }
        }
        Append(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        if (Fits(buffer.Length))
        {
            Append(buffer.Span);
            return ValueTask.CompletedTask;
        }
        return SpillAsync(buffer, ct);
    }

    async ValueTask SpillAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct)
    {
        await FlushBufferAsync(ct);
        if (buffer.Length > _buffer.Length)
        {
            await inner.WriteAsync(buffer, ct);
        }
        else
        {
            Append(buffer.Span);
        }
    }

    public override void Flush()
    {
        FlushBuffer();
        inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken ct)
    {
        await FlushBufferAsync(ct);
        await inner.FlushAsync(ct);
    }

    bool Fits(int length) => _count + length <= _buffer.Length;

    void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_buffer.AsSpan(_count));
        _count += bytes.Length;
    }

    void FlushBuffer()
    {
        if (_count > 0)
        {
            var count = _count;
            _count = 0;
            inner.Write(_buffer, 0, count);
        }
    }

    async ValueTask FlushBufferAsync(CancellationToken ct)
    {
        if (_count > 0)
        {
            var count = _count;
            _count = 0;
            await inner.WriteAsync(_buffer.AsMemory(0, count), ct);
        }
    }

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // What is still held is dropped: a connection is closed after its last flush (QUIT), or because it broke.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
        base.Dispose(disposing);
    }
}
