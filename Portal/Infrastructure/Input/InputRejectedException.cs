using System.Text.Json;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// A JSON value the input rules refuse. It is a <see cref="JsonException"/> so the serializer adds
/// where it happened (<see cref="JsonException.Path"/>: the value's path, or the object's when the
/// problem is one of its members) and the request binder reports it as a bad request; the problem
/// pipeline turns it into a 400 naming the field (<see cref="InputProblems"/>).
/// </summary>
public sealed class InputRejectedException(string message, string? member = null) : JsonException(message)
{
    /// <summary>The member below <see cref="JsonException.Path"/> the message is about (<c>nodePools[0]</c>), or null for the value at the path
    /// itself.</summary>
    public string? Member { get; } = member;
}
