package plot

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func sampleComparison() Comparison {
	return Comparison{Title: "inline miss rate", Caption: "measured vs predicted", XLabel: "WORK", YLabel: "miss rate",
		XTicks: []string{"0", "1k", "10k"}, YMax: 1,
		Series: []CompareSeries{
			{Name: "measured", Points: []ComparePoint{{0.5, 0.4, 0.6}, {0.9, 0.8, 0.95}, {0.1, 0.05, 0.2}}},
			{Name: "predicted", Points: []ComparePoint{{0.45, 0.45, 0.45}, {0.85, 0.8, 0.9}, {0.2, 0.1, 0.3}}},
		}}
}

// The comparison figure is deterministic bytes, in both formats, and
// names its series.
func TestRenderComparison(t *testing.T) {
	for _, f := range []Format{SVG, PNG} {
		var a, b bytes.Buffer
		require.NoError(t, RenderComparison(&a, sampleComparison(), f, Size{}))
		require.NoError(t, RenderComparison(&b, sampleComparison(), f, Size{}))
		require.Equal(t, a.Bytes(), b.Bytes())
		require.NotEmpty(t, a.Bytes())
	}
	var svg bytes.Buffer
	require.NoError(t, RenderComparison(&svg, sampleComparison(), SVG, Size{}))
	for _, text := range []string{"inline miss rate", "measured", "predicted", "WORK", "10k"} {
		require.Contains(t, svg.String(), text)
	}
}

func TestRenderComparisonErrors(t *testing.T) {
	var b bytes.Buffer
	require.EqualError(t, RenderComparison(&b, Comparison{}, SVG, Size{}), "comparison: no data")
	c := sampleComparison()
	c.Series[1].Points = c.Series[1].Points[:2]
	require.EqualError(t, RenderComparison(&b, c, SVG, Size{}), "comparison: series predicted has 2 points for 3 categories")
	require.EqualError(t, RenderComparison(&b, sampleComparison(), SVG, Size{Width: 10}), "width 10 px: want 500 to 8000")
	pdf := filepath.Join(t.TempDir(), "x.pdf")
	require.EqualError(t, WriteComparison(pdf, sampleComparison(), Size{}), pdf+": want a .svg or .png file")
}
