using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>
/// Charts drawn on the server as SVG markup: no chart library in the browser, nothing for the script policy to allow.
/// Geometry is given by attributes (not style), so the Content-Security-Policy's ban on inline style does not apply.
/// </summary>
public static class Charts
{
    const int BarWidth = 1000;

    /// <summary>The ledger's stacked bar; each segment is a rect with data-segment, which the live script resizes.</summary>
    public static string LedgerBar(LedgerProgress progress)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"ledger-bar\" viewBox=\"0 0 {BarWidth} 24\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"Delivery ledger\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"track\" x=\"0\" y=\"0\" width=\"{BarWidth}\" height=\"24\"/>");
        double x = 0;
        foreach (var segment in LedgerProgress.Segments)
        {
            var width = progress.Total == 0 ? 0 : BarWidth * (double)progress.Count(segment) / progress.Total;
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect class=\"seg-{segment}\" data-segment=\"{segment}\" x=\"{x:0.##}\" y=\"0\" width=\"{width:0.##}\" height=\"24\"><title>{segment}</title></rect>");
            x += width;
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Columns, one per label, with the value above each and the label below (every <paramref name="labelEvery"/>-th).</summary>
    public static string Columns(IReadOnlyList<(string Label, long Value)> points, string caption, int labelEvery = 1)
    {
        if (points.Count == 0)
        {
            return "";
        }
        const int height = 160, top = 16, bottom = 36, column = 28;
        var width = Math.Max(200, points.Count * column);
        var max = Math.Max(1, points.Max(p => p.Value));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" width=\"{width}\" height=\"{height + top + bottom}\" viewBox=\"0 0 {width} {height + top + bottom}\" role=\"img\" aria-label=\"{Encode(caption)}\"><title>{Encode(caption)}</title>");
        for (var i = 0; i < points.Count; i++)
        {
            var (label, value) = points[i];
            var h = height * (double)value / max;
            var x = i * column + 4;
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect class=\"column\" x=\"{x}\" y=\"{top + height - h:0.##}\" width=\"{column - 8}\" height=\"{h:0.##}\"><title>{Encode(label)}: {value}</title></rect>");
            svg.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{x + (column - 8) / 2}\" y=\"{top + height - h - 3:0.##}\" text-anchor=\"middle\" class=\"value\">{value}</text>");
            if (i % labelEvery == 0)
            {
                svg.Append(CultureInfo.InvariantCulture,
                    $"<text x=\"{x}\" y=\"{top + height + 14}\" class=\"label\">{Encode(label)}</text>");
            }
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>Horizontal bars, one row per label (for many long labels, such as topic names).</summary>
    public static string Bars(IReadOnlyList<(string Label, long Value)> rows, string caption)
    {
        const int row = 22, labelWidth = 430, barSpace = 300;
        var max = Math.Max(1, rows.Count == 0 ? 1 : rows.Max(r => r.Value));
        var height = rows.Count * row + 4;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"chart\" width=\"{labelWidth + barSpace + 60}\" height=\"{height}\" viewBox=\"0 0 {labelWidth + barSpace + 60} {height}\" role=\"img\" aria-label=\"{Encode(caption)}\"><title>{Encode(caption)}</title>");
        for (var i = 0; i < rows.Count; i++)
        {
            var (label, value) = rows[i];
            var y = i * row + 2;
            var w = barSpace * (double)value / max;
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth - 8}\" y=\"{y + 15}\" text-anchor=\"end\" class=\"label\">{Encode(label)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect class=\"column\" x=\"{labelWidth}\" y=\"{y + 3}\" width=\"{w:0.##}\" height=\"{row - 6}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{labelWidth + w + 6:0.##}\" y=\"{y + 15}\" class=\"value\">{value}</text>");
        }
        svg.Append("</svg>");
        return svg.ToString();
    }

    static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
