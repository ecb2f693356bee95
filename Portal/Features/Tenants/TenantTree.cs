using MudBlazor;

namespace Cogrion.Portal.Features.Tenants;

/// <summary>One tenant in the tree view.</summary>
public sealed record TenantTreeNode(string Slug, string Name, string Domain);

/// <summary>Builds the tree view's items from the flat, parent-first subtree the store returns.</summary>
public static class TenantTree
{
    public static IReadOnlyCollection<ITreeItemData<TenantTreeNode>> Build(IReadOnlyList<TenantNode> subtree, Guid rootId)
    {
        var children = new Dictionary<Guid, List<ITreeItemData<TenantTreeNode>>>();
        var items = new Dictionary<Guid, TreeItemData<TenantTreeNode>>();
        foreach (var node in subtree)
        {
            var list = new List<ITreeItemData<TenantTreeNode>>();
            children[node.Id] = list;
            items[node.Id] = new TreeItemData<TenantTreeNode>
            {
                Value = new TenantTreeNode(node.Slug, node.Name, node.Domain),
                Text = node.Name,
                Expanded = true,
                Children = list,
            };
        }
        foreach (var node in subtree.Where(n => n.Id != rootId && n.ParentId is { } parent && children.ContainsKey(parent)))
            children[node.ParentId!.Value].Add(items[node.Id]);
        return items.TryGetValue(rootId, out var root) ? [root] : [];
    }
}
