"""Collocation grids: nodes, differentiation matrices and interpolation matrices.

A grid discretises one trajectory on ``[t_start, t_end]``. The states at its
nodes are the unknowns of the nonlinear program, and the ODE is imposed at
its collocation nodes through rows of a differentiation matrix:

    (D Y)[c] = f(Y[k_c], u[k_c])   for every collocation row c,

where ``k_c`` is the node at which row ``c`` is evaluated. The first node of
a trajectory is never a collocation node, so the initial state stays free.

Two schemes are provided:

* ``chebyshev_grid``: one global polynomial through Chebyshev-Gauss-Lobatto
  nodes. The differentiation matrix is dense.
* ``radau_grid``: finite elements with Radau IIA points inside each element
  and the state continuous across element boundaries. The differentiation
  matrix is block sparse.

References
----------
J.-P. Berrut and L. N. Trefethen, "Barycentric Lagrange interpolation",
SIAM Review 46(3), 2004 (barycentric weights, differentiation and
interpolation formulas used below).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


def chebyshev_lobatto_nodes(n_nodes):
    """Return the Chebyshev-Gauss-Lobatto nodes on [-1, 1] in ascending order.

    Parameters
    ----------
    n_nodes : int
        Number of nodes, at least 2.

    Returns
    -------
    nodes : ndarray of shape (n_nodes,)
        ``-cos(pi * j / (n_nodes - 1))`` for ``j = 0, ..., n_nodes - 1``.

    Examples
    --------
    >>> from sklearn_nodecoll.collocation import chebyshev_lobatto_nodes
    >>> chebyshev_lobatto_nodes(5).round(4).tolist()
    [-1.0, -0.7071, 0.0, 0.7071, 1.0]
    """
    if n_nodes < 2:
        raise ValueError(f"n_nodes must be at least 2, got {n_nodes}.")
    j = np.arange(n_nodes)
    nodes = -np.cos(np.pi * j / (n_nodes - 1))
    # cos is not exactly antisymmetric in floating point; make the middle node
    # and the end points exact.
    nodes[0], nodes[-1] = -1.0, 1.0
    if n_nodes % 2 == 1:
        nodes[n_nodes // 2] = 0.0
    return nodes


def barycentric_weights(nodes):
    """Return the barycentric weights of Lagrange interpolation on ``nodes``.

    The weights are scaled so that the largest has magnitude 1, which keeps
    them finite for a few hundred nodes on any interval.
    """
    nodes = np.asarray(nodes, dtype=float)
    differences = nodes[:, None] - nodes[None, :]
    np.fill_diagonal(differences, 1.0)
    # Summing logarithms instead of multiplying avoids overflow for many nodes.
    log_magnitude = -np.sum(np.log(np.abs(differences)), axis=1)
    sign = np.prod(np.sign(differences), axis=1)
    log_magnitude -= log_magnitude.max()
    return sign * np.exp(log_magnitude)


def differentiation_matrix(nodes, weights=None):
    """Return the matrix D with ``D @ p(nodes) = p'(nodes)`` for polynomials.

    The matrix is exact for every polynomial of degree below ``len(nodes)``.

    Parameters
    ----------
    nodes : array-like of shape (n_nodes,)
        Distinct interpolation nodes.
    weights : array-like of shape (n_nodes,), default=None
        Barycentric weights of ``nodes``; computed when None.

    Returns
    -------
    D : ndarray of shape (n_nodes, n_nodes)

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll.collocation import differentiation_matrix
    >>> nodes = np.array([0.0, 0.5, 1.0])
    >>> (differentiation_matrix(nodes) @ nodes**2).round(12).tolist()
    [0.0, 1.0, 2.0]
    """
    nodes = np.asarray(nodes, dtype=float)
    if weights is None:
        weights = barycentric_weights(nodes)
    differences = nodes[:, None] - nodes[None, :]
    np.fill_diagonal(differences, 1.0)
    D = (weights[None, :] / weights[:, None]) / differences
    np.fill_diagonal(D, 0.0)
    # The negative-sum trick makes every row annihilate constants exactly.
    np.fill_diagonal(D, -D.sum(axis=1))
    return D


def interpolation_matrix(nodes, points, weights=None):
    """Return the matrix P with ``P @ p(nodes) = p(points)`` for polynomials.

    Parameters
    ----------
    nodes : array-like of shape (n_nodes,)
        Distinct interpolation nodes.
    points : array-like of shape (n_points,)
        Where to evaluate the interpolating polynomial.
    weights : array-like of shape (n_nodes,), default=None
        Barycentric weights of ``nodes``; computed when None.

    Returns
    -------
    P : ndarray of shape (n_points, n_nodes)
        Each row sums to one. A point that coincides with a node gets the
        unit row of that node.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_nodecoll.collocation import interpolation_matrix
    >>> nodes = np.array([0.0, 0.5, 1.0])
    >>> (interpolation_matrix(nodes, [0.25, 0.5]) @ nodes**2).round(12).tolist()
    [0.0625, 0.25]
    """
    nodes = np.asarray(nodes, dtype=float)
    points = np.atleast_1d(np.asarray(points, dtype=float))
    if weights is None:
        weights = barycentric_weights(nodes)
    differences = points[:, None] - nodes[None, :]
    on_node = differences == 0.0
    differences[on_node] = 1.0
    P = weights[None, :] / differences
    P /= P.sum(axis=1, keepdims=True)
    rows, cols = np.nonzero(on_node)
    P[rows] = 0.0
    P[rows, cols] = 1.0
    return P


def radau_points(degree):
    """Return the Radau IIA collocation points on (0, 1].

    Parameters
    ----------
    degree : int
        Number of points, at least 1. The last point is 1.

    Returns
    -------
    points : ndarray of shape (degree,)
        The roots of ``P_s(2x - 1) - P_{s-1}(2x - 1)`` with ``s = degree``,
        ``P`` the Legendre polynomials.

    Examples
    --------
    >>> from sklearn_nodecoll.collocation import radau_points
    >>> radau_points(2).round(6).tolist()
    [0.333333, 1.0]
    """
    if degree < 1:
        raise ValueError(f"degree must be at least 1, got {degree}.")
    legendre = np.polynomial.legendre.Legendre
    polynomial = legendre.basis(degree) - legendre.basis(degree - 1)
    roots = np.sort(np.real(polynomial.roots()))
    points = (roots + 1.0) / 2.0
    points[-1] = 1.0
    return points


@dataclass
class Grid:
    """Nodes and matrices of one collocation grid.

    Attributes
    ----------
    nodes : ndarray of shape (n_nodes,)
        Node times, ascending; the first is the start of the trajectory.
    diff_matrix : scipy.sparse.csr_matrix of shape (n_rows, n_nodes)
        Rows of the differentiation matrix, one per collocation equation.
    collocation_index : ndarray of shape (n_rows,)
        Node at which each collocation equation evaluates the right-hand side.
    scheme : str
        ``"chebyshev"`` or ``"radau"``.
    element_bounds : ndarray of shape (n_elements + 1,)
        Element boundaries; ``[t_start, t_end]`` for the global scheme.
    element_nodes : list of ndarray
        For each element, the indices of its nodes (start node included).
    """

    nodes: np.ndarray
    diff_matrix: sp.csr_matrix
    collocation_index: np.ndarray
    scheme: str
    element_bounds: np.ndarray
    element_nodes: list

    @property
    def n_nodes(self):
        return self.nodes.shape[0]

    def interpolation(self, points):
        """Return the sparse matrix mapping node values to values at ``points``.

        Each point is evaluated with the polynomial of the element that
        contains it; points outside the grid use the nearest element, which
        extrapolates.
        """
        points = np.atleast_1d(np.asarray(points, dtype=float))
        element = np.searchsorted(self.element_bounds, points, side="right") - 1
        element = np.clip(element, 0, len(self.element_nodes) - 1)
        rows, cols, values = [], [], []
        for e, node_index in enumerate(self.element_nodes):
            in_element = np.flatnonzero(element == e)
            if in_element.size == 0:
                continue
            block = interpolation_matrix(self.nodes[node_index], points[in_element])
            rows.append(np.repeat(in_element, node_index.size))
            cols.append(np.tile(node_index, in_element.size))
            values.append(block.ravel())
        shape = (points.size, self.n_nodes)
        if not rows:
            return sp.csr_matrix(shape)
        return sp.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(cols))),
            shape=shape,
        )


def chebyshev_grid(t_start, t_end, n_nodes):
    """Build the global Chebyshev-Gauss-Lobatto grid on ``[t_start, t_end]``.

    Parameters
    ----------
    t_start, t_end : float
        Ends of the interval, ``t_start < t_end``.
    n_nodes : int
        Number of nodes, at least 3.

    Returns
    -------
    grid : Grid
        With ``n_nodes - 1`` collocation rows: every node but the first.

    Examples
    --------
    >>> from sklearn_nodecoll.collocation import chebyshev_grid
    >>> grid = chebyshev_grid(0.0, 10.0, 9)
    >>> grid.n_nodes, grid.diff_matrix.shape
    (9, (8, 9))
    """
    if not t_end > t_start:
        raise ValueError(f"t_end must exceed t_start, got [{t_start}, {t_end}].")
    if n_nodes < 3:
        raise ValueError(f"n_nodes must be at least 3, got {n_nodes}.")
    reference = chebyshev_lobatto_nodes(n_nodes)
    half_length = 0.5 * (t_end - t_start)
    nodes = t_start + (reference + 1.0) * half_length
    nodes[-1] = t_end
    # Differentiate on the reference interval, where the weights are
    # well scaled, then apply the chain rule.
    D = differentiation_matrix(reference) / half_length
    return Grid(
        nodes=nodes,
        diff_matrix=sp.csr_matrix(D[1:]),
        collocation_index=np.arange(1, n_nodes),
        scheme="chebyshev",
        element_bounds=np.array([t_start, t_end], dtype=float),
        element_nodes=[np.arange(n_nodes)],
    )


def radau_grid(element_bounds, degree):
    """Build a finite-element grid with Radau IIA points in each element.

    Each element ``[h_0, h_1]`` owns ``degree`` nodes at its Radau points
    and shares its start node with the end node of the previous element,
    which makes the state continuous. The ODE is imposed at every Radau
    point, so the scheme is the implicit Radau IIA Runge-Kutta method of
    order ``2 * degree - 1``.

    Parameters
    ----------
    element_bounds : array-like of shape (n_elements + 1,)
        Strictly increasing element boundaries.
    degree : int
        Radau points per element, at least 1.

    Returns
    -------
    grid : Grid
        With ``n_elements * degree + 1`` nodes and ``n_elements * degree``
        collocation rows.

    Examples
    --------
    >>> from sklearn_nodecoll.collocation import radau_grid
    >>> grid = radau_grid([0.0, 1.0, 3.0], degree=3)
    >>> grid.n_nodes, grid.diff_matrix.nnz
    (7, 24)
    """
    bounds = np.asarray(element_bounds, dtype=float)
    if bounds.ndim != 1 or bounds.size < 2:
        raise ValueError("element_bounds must be a 1-D array of at least 2 boundaries.")
    if np.any(np.diff(bounds) <= 0):
        raise ValueError("element_bounds must be strictly increasing.")
    n_elements = bounds.size - 1
    reference = np.concatenate([[0.0], radau_points(degree)])
    D_reference = differentiation_matrix(reference)[1:]

    lengths = np.diff(bounds)
    nodes = np.empty(n_elements * degree + 1)
    nodes[0] = bounds[0]
    nodes[1:] = (bounds[:-1, None] + lengths[:, None] * reference[None, 1:]).ravel()
    # The last Radau point of each element is its end; set it exactly so that
    # observations at element boundaries fall on nodes.
    nodes[degree::degree] = bounds[1:]

    element_nodes = [e * degree + np.arange(degree + 1) for e in range(n_elements)]
    rows = np.repeat(np.arange(n_elements * degree), degree + 1)
    cols = np.concatenate([np.tile(index, degree) for index in element_nodes])
    values = (D_reference[None, :, :] / lengths[:, None, None]).ravel()
    diff_matrix = sp.csr_matrix(
        (values, (rows, cols)), shape=(n_elements * degree, nodes.size)
    )
    return Grid(
        nodes=nodes,
        diff_matrix=diff_matrix,
        collocation_index=np.arange(1, nodes.size),
        scheme="radau",
        element_bounds=bounds,
        element_nodes=element_nodes,
    )
