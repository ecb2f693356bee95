namespace Cogrion.Portal.Features.Workspaces.Modules;

/// <summary>
/// Names the OpenTofu variable a property is written to. The contract test compares these names,
/// their types and <see cref="Sensitive"/> with what terraform/aws and terraform/alicloud declare.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class ModuleVariableAttribute(string name) : Attribute
{
    /// <summary>The variable's name in the module (snake_case).</summary>
    public string Name { get; } = name;

    /// <summary>
    /// Declared <c>sensitive = true</c> in the module. Such values go only to the sensitive tfvars
    /// file, which the runner deletes after the run; they are never stored, logged or shown.
    /// </summary>
    public bool Sensitive { get; init; }
}

/// <summary>Names the OpenTofu output a property is read from.</summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class ModuleOutputAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
