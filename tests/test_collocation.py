import numpy as np
import pytest

from sklearn_nodecoll import collocation


@pytest.mark.parametrize("n_nodes", [3, 8, 25, 200])
def test_chebyshev_nodes_ascending_and_symmetric(n_nodes):
    nodes = collocation.chebyshev_lobatto_nodes(n_nodes)
    assert nodes[0] == -1.0
    assert nodes[-1] == 1.0
    assert np.all(np.diff(nodes) > 0)
    np.testing.assert_allclose(nodes, -nodes[::-1], atol=1e-15)


@pytest.mark.parametrize("n_nodes", [5, 12, 40])
def test_differentiation_matrix_exact_for_polynomials(n_nodes):
    nodes = collocation.chebyshev_lobatto_nodes(n_nodes) * 3.0 + 1.0
    D = collocation.differentiation_matrix(nodes)
    rng = np.random.default_rng(0)
    for degree in range(n_nodes):
        coefficients = rng.standard_normal(degree + 1)
        p = np.polynomial.Polynomial(coefficients, domain=[-2, 4], window=[-1, 1])
        np.testing.assert_allclose(D @ p(nodes), p.deriv()(nodes), atol=1e-9 * n_nodes**2)


def test_differentiation_matrix_of_sine():
    # Spectral accuracy: 30 nodes resolve sin on two periods to near round-off.
    grid = collocation.chebyshev_grid(0.0, 4 * np.pi, 40)
    derivative = np.asarray(grid.diff_matrix @ np.sin(grid.nodes))
    np.testing.assert_allclose(derivative, np.cos(grid.nodes[1:]), atol=1e-8)


def test_interpolation_matrix_exact_and_on_nodes():
    nodes = collocation.chebyshev_lobatto_nodes(9)
    points = np.concatenate([np.linspace(-1, 1, 17), nodes[[0, 4, 8]]])
    P = collocation.interpolation_matrix(nodes, points)
    p = np.polynomial.Polynomial([0.5, -1.0, 2.0, 0.0, 3.0, -0.25, 0.0, 1.0, 0.5])
    np.testing.assert_allclose(P @ p(nodes), p(points), atol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    np.testing.assert_array_equal(P[-3:], np.eye(9)[[0, 4, 8]])


@pytest.mark.parametrize("degree", [1, 2, 3, 5])
def test_radau_points_are_roots(degree):
    points = collocation.radau_points(degree)
    legendre = np.polynomial.legendre.Legendre
    polynomial = legendre.basis(degree) - legendre.basis(degree - 1)
    np.testing.assert_allclose(polynomial(2 * points - 1), 0.0, atol=1e-12)
    assert points[-1] == 1.0


def test_radau_points_known_values():
    # Radau IIA with two stages: c = (1/3, 1); three stages: (4 -+ sqrt 6)/10, 1.
    np.testing.assert_allclose(collocation.radau_points(2), [1 / 3, 1.0], atol=1e-14)
    expected = [(4 - np.sqrt(6)) / 10, (4 + np.sqrt(6)) / 10, 1.0]
    np.testing.assert_allclose(collocation.radau_points(3), expected, atol=1e-14)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_radau_grid_exact_for_polynomials_up_to_degree(degree):
    bounds = np.array([0.0, 0.3, 1.0, 1.2, 2.5])
    grid = collocation.radau_grid(bounds, degree)
    assert grid.n_nodes == 4 * degree + 1
    np.testing.assert_array_equal(grid.nodes[::degree], bounds)
    collocated = grid.nodes[1:]
    for power in range(1, degree + 1):
        derivative = grid.diff_matrix @ grid.nodes**power
        np.testing.assert_allclose(derivative, power * collocated ** (power - 1), atol=1e-10)
    np.testing.assert_allclose(grid.diff_matrix @ np.ones(grid.n_nodes), 0.0, atol=1e-10)


def test_radau_grid_sparse_block_structure():
    grid = collocation.radau_grid(np.linspace(0, 1, 11), 3)
    # Each collocation row couples only the nodes of its own element.
    assert grid.diff_matrix.nnz == 30 * 4
    np.testing.assert_array_equal(grid.collocation_index, np.arange(1, 31))


def test_grid_interpolation_uses_element_polynomial():
    grid = collocation.radau_grid(np.linspace(0, 2, 5), 3)
    points = np.array([0.0, 0.1, 0.5, 0.77, 1.5, 2.0])
    P = grid.interpolation(points)
    # A cubic is reproduced exactly inside every element.
    cubic = np.polynomial.Polynomial([1.0, -2.0, 0.5, 0.3])
    np.testing.assert_allclose(P @ cubic(grid.nodes), cubic(points), atol=1e-12)
    # Each point uses the degree + 1 nodes of one element.
    assert np.all(np.diff(P.indptr) == 4)


def test_grid_rejects_invalid_arguments():
    with pytest.raises(ValueError, match="n_nodes must be at least 3, got 2"):
        collocation.chebyshev_grid(0.0, 1.0, 2)
    with pytest.raises(ValueError, match=r"t_end must exceed t_start, got \[1.0, 1.0\]"):
        collocation.chebyshev_grid(1.0, 1.0, 5)
    with pytest.raises(ValueError, match="strictly increasing"):
        collocation.radau_grid([0.0, 1.0, 1.0], 3)
