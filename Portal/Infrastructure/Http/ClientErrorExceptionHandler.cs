using System.Reflection;
using System.Text.Json;
using Cogrion.Portal.Infrastructure.Input;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;

namespace Cogrion.Portal.Infrastructure.Http;

/// <summary>
/// Exceptions that mean "the request was bad", not "the Portal failed": the binder's refusals
/// (invalid JSON, a wrong type, a missing or wrong Content-Type, <c>?wait=abc</c>, the input rules of
/// <see cref="InputJson"/>), an unreadable form and a failed antiforgery check. They keep the status
/// they carry (400, 413, 415) in every environment, as a problem that names the field, instead of
/// reaching the generic handler as a 500. Registered for pages and the API alike.
/// </summary>
public sealed class ClientErrorExceptionHandler(ILogger<ClientErrorExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted) return false;
        var result = exception switch
        {
            BadHttpRequestException { InnerException: JsonException json } => Invalid(json),
            BadHttpRequestException bad => FromBinder(context, bad),
            AntiforgeryValidationException => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
                title: "The form has expired or was not sent by this site.", detail: "Reload the page and try again."),
            InvalidDataException or IOException when context.Request.HasFormContentType => UnreadableForm(),
            _ => null,
        };
        if (result is null) return false;
        logger.LogInformation("Refused a bad request to {Path}: {Reason}", context.Request.Path.Value, exception.Message);
        await result.ExecuteAsync(context);
        return true;
    }

    private static IResult Invalid(JsonException json)
    {
        var (field, message) = InputProblems.Describe(json);
        return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] });
    }

    private static IResult FromBinder(HttpContext context, BadHttpRequestException bad)
    {
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
            return TypedResults.Problem(statusCode: bad.StatusCode, title: "Unsupported media type.", detail: "Send the body as application/json.");
        if (bad.StatusCode != StatusCodes.Status400BadRequest)
            return TypedResults.Problem(statusCode: bad.StatusCode, title: ApiProblems.ReasonFor(bad.StatusCode), detail: bad.Message);
        return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [FieldOf(context, bad.Message)] = [bad.Message] });
    }

    /// <summary>The parameter the binder names, or "body" when it is the endpoint's body parameter (or none is named).</summary>
    private static string FieldOf(HttpContext context, string binderMessage)
    {
        if (InputProblems.ParameterOf(binderMessage) is not { } name) return InputProblems.BodyField;
        var endpoint = context.GetEndpoint();
        var bodyType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
        var isBody = bodyType is not null && endpoint!.Metadata.GetMetadata<MethodInfo>()?.GetParameters()
            .Any(p => p.Name == name && p.ParameterType == bodyType) == true;
        return isBody ? InputProblems.BodyField : name;
    }

    internal static IResult UnreadableForm() => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest,
        title: "The form could not be read.", detail: "The body does not match its Content-Type (a broken multipart or form body).");
}
