using Cogrion.Portal.Infrastructure.Http;
using Microsoft.AspNetCore.Http.Json;

namespace Cogrion.Portal.Infrastructure.Input;

/// <summary>
/// Where text enters over HTTP, checked once for every endpoint, pages and API alike: route values,
/// query keys and values, and form fields are storable (<see cref="InputText.StorableProblem"/>)
/// before anything looks them up (the tenant guard reads the slug from the route), and JSON bodies
/// follow <see cref="InputJson"/> as they are bound. A refusal is a 400 problem naming the field.
/// Names shown to others are checked further by the feature rules that own them (TenantRules, ...),
/// which the Blazor forms call too.
/// </summary>
public static class InputBoundary
{
    public static IServiceCollection AddInputBoundary(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(options => InputJson.Apply(options.SerializerOptions));
        // The binder throws its refusal instead of answering a bare 400 itself, in every environment, so
        // ClientErrorExceptionHandler can name the field; the handler keeps the exception's own status.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ClientErrorExceptionHandler>();
        return services;
    }

    /// <summary>After routing (route values are known) and before anything uses them.</summary>
    public static IApplicationBuilder UseInputBoundary(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.GetEndpoint() is null)
        {
            await next(context);
            return;
        }
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var (key, value) in context.Request.RouteValues)
            Check(errors, key, value as string);
        foreach (var (key, values) in context.Request.Query)
        {
            Check(errors, key, key);
            foreach (var value in values) Check(errors, key, value);
        }
        if (context.Request.HasFormContentType && errors.Count == 0)
        {
            IFormCollection form;
            try
            {
                // Read (and cached for the endpoint and antiforgery) here, so a broken body is a 400 wherever it is sent.
                form = await context.Request.ReadFormAsync(context.RequestAborted);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException and not BadHttpRequestException)
            {
                await ClientErrorExceptionHandler.UnreadableForm().ExecuteAsync(context);
                return;
            }
            foreach (var (key, values) in form)
            {
                Check(errors, key, key);
                foreach (var value in values) Check(errors, key, value);
            }
            foreach (var file in form.Files) Check(errors, file.Name, file.FileName);
        }
        if (errors.Count > 0)
        {
            await TypedResults.ValidationProblem(errors).ExecuteAsync(context);
            return;
        }
        await next(context);
    });

    private static void Check(Dictionary<string, string[]> errors, string field, string? value)
    {
        if (InputText.StorableProblem(value) is { } problem)
            errors[InputText.IsStorable(field) ? field : "(field name)"] = [problem];
    }
}
